package dev.ditfn.api;

import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig;
import dev.ditfn.onnx.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 4-block model served with the splits F1B0 (configured) and F2B0 (extra): the sessions are fixed at load, every
 * backend and served split runs on them, and a split off them is a 400 that creates nothing.
 */
@QuarkusTest
@TestProfile(SegmentedServingTest.FourBlocks.class)
class SegmentedServingTest {
    private static final String BASE = "\"prompt\":\"a lighthouse\",\"size\":\"32x32\",\"seed\":3,"
            + "\"num_inference_steps\":6,\"negative_prompt\":\" \",\"true_cfg_scale\":4";

    public static class FourBlocks implements QuarkusTestProfile {
        static final Path DIR = Path.of("target", "test-models", "four-blocks");

        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageTransformerConfig t = QwenImageTransformerConfig.TINY;
            QwenImageSnapshot.write(DIR, new QwenImageSnapshot.Preset("four-blocks", QwenTextEncoderConfig.TINY,
                    new QwenImageTransformerConfig(t.patchSize(), t.inChannels(), t.outChannels(), 4,
                            t.attentionHeadDim(), t.numAttentionHeads(), t.jointAttentionDim(), t.axesDimsRope()),
                    QwenImageVaeConfig.TINY), DType.FLOAT32, 11);
            return Map.of("dit.model.path", DIR.toAbsolutePath().toString(), "dit.cache.Fn_compute_blocks", "1",
                    "dit.cache.Bn_compute_blocks", "0", "dit.cache.extra-splits", "F2B0");
        }
    }

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static JsonPath readiness() {
        return given().get("/q/health/ready").then().statusCode(200).extract().jsonPath();
    }

    private static JsonPath generate(String cache) {
        return given().contentType(ContentType.JSON).body("{" + BASE + ",\"cache\":" + cache + "}").post("/generate")
                .then().statusCode(200).extract().jsonPath();
    }

    @Test
    void sessionsAreFixedAtLoadAndEveryBackendRunsOnThem() {
        JsonPath before = readiness();
        assertEquals("[0, 1, 2, 4]", before.getString("checks[0].data.transformer_segments"));
        // text encoder, VAE decoder; prologue, [0,1), [1,2), [2,4), epilogue; the stream add
        assertEquals(8, before.getInt("checks[0].data.sessions"));
        for (String cache : List.of("{\"backend\":\"none\"}", "{\"backend\":\"tea_cache\",\"rel_l1_thresh\":0.4}",
                "{\"backend\":\"cache_dit\",\"residual_diff_threshold\":0.5}",
                "{\"backend\":\"cache_dit\",\"Fn_compute_blocks\":2,\"enable_taylorseer\":true}",
                "{\"backend\":\"cache_dit\",\"Fn_compute_blocks\":2,\"Bn_compute_blocks\":2}")) {
            JsonPath r = generate(cache);
            assertFalse(r.getList("cache.branches.uncond.computed_steps").isEmpty(), cache);
        }
        assertEquals(8, readiness().getInt("checks[0].data.sessions"), "no session was created by a request");
    }

    @Test
    void aSplitOffTheServedSegmentsIsA400NamingTheField() {
        for (String[] c : List.of(new String[] {"\"Fn_compute_blocks\":3", "cache.Fn_compute_blocks"},
                new String[] {"\"Bn_compute_blocks\":1", "cache.Bn_compute_blocks"})) {
            given().contentType(ContentType.JSON).body("{" + BASE + ",\"cache\":{\"backend\":\"cache_dit\"," + c[0]
                    + "}}").post("/generate").then().statusCode(400).body("error.param", equalTo(c[1]))
                    .body("error.message", containsString("[0, 1, 2, 4]"));
        }
        assertEquals(8, readiness().getInt("checks[0].data.sessions"));
        assertTrue(generate("{\"backend\":\"cache_dit\"}").getDouble("cache.blocks_computed_fraction") <= 1.0);
    }
}
