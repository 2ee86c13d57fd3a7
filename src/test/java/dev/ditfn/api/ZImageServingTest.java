package dev.ditfn.api;

import dev.ditfn.model.zimage.ZImageSnapshot;
import dev.ditfn.onnx.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A generated Z-Image snapshot behind {@code dit.model.path}: the same functions and request/response shape as
 * Qwen-Image, with Z-Image-Turbo's defaults (8 steps, guidance off) and both step caches.
 */
@QuarkusTest
@TestProfile(ZImageServingTest.ZImageModel.class)
class ZImageServingTest {

    public static class ZImageModel implements QuarkusTestProfile {
        static final Path DIR = Path.of("target", "test-models", "zimage-tiny");

        @Override
        public Map<String, String> getConfigOverrides() {
            ZImageSnapshot.write(DIR, ZImageSnapshot.TINY, DType.FLOAT32, 5);
            return Map.of("dit.model.path", DIR.toAbsolutePath().toString());
        }
    }

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static JsonPath generate(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/generate").then().statusCode(200).extract()
                .jsonPath();
    }

    private static BufferedImage image(JsonPath r) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(r.getString("data[0].b64_json"))));
    }

    @Test
    void generateServesZImageWithTurboDefaults() throws IOException {
        JsonPath r = generate("{\"prompt\":\"a red circle\",\"size\":\"48x32\",\"seed\":4}");
        BufferedImage img = image(r);
        assertEquals(48, img.getWidth());
        assertEquals(32, img.getHeight());
        assertEquals(8, r.getInt("parameters.num_inference_steps"), "Z-Image-Turbo's step count");
        assertFalse(r.getBoolean("parameters.cfg"), "guidance off by default");
        assertEquals("", r.getString("parameters.negative_prompt"), "upstream's default negative prompt");
        JsonPath again = generate("{\"prompt\":\"a red circle\",\"size\":\"48x32\",\"seed\":4}");
        assertEquals(r.getString("data[0].b64_json"), again.getString("data[0].b64_json"), "same seed, same bytes");
        JsonPath guided = generate("{\"prompt\":\"a red circle\",\"size\":\"48x32\",\"seed\":4,"
                + "\"true_cfg_scale\":0.5}");
        assertTrue(guided.getBoolean("parameters.cfg"), "Z-Image runs guidance for any scale above 0");
        assertNotEquals(r.getString("data[0].b64_json"), guided.getString("data[0].b64_json"));
    }

    @Test
    void bothStepCachesRunAndReportBothBranches() {
        for (String cache : new String[] {"{\"backend\":\"tea_cache\",\"rel_l1_thresh\":0.6}",
                "{\"backend\":\"cache_dit\",\"scm_steps_mask_policy\":\"fast\",\"residual_diff_threshold\":0.8}"}) {
            JsonPath r = generate("{\"prompt\":\"a lighthouse\",\"size\":\"32x32\",\"seed\":2,\"true_cfg_scale\":2,"
                    + "\"cache\":" + cache + "}");
            assertFalse(r.getList("cache.branches.cond.computed_steps").isEmpty(), cache);
            assertFalse(r.getList("cache.branches.uncond.computed_steps").isEmpty(), cache);
            double fraction = r.getDouble("cache.blocks_computed_fraction");
            assertTrue(fraction > 0 && fraction <= 1, cache + " " + fraction);
        }
    }

    /** Z-Image's pipeline calls its CFG scale guidance_scale: the OpenAI door takes that name for it. */
    @Test
    void openAiGuidanceScaleIsZImagesCfgScale() {
        String base = "{\"prompt\":\"a kite\",\"size\":\"32x32\",\"seed\":3";
        String viaGuidance = given().contentType(ContentType.JSON).body(base + ",\"guidance_scale\":2}")
                .post("/v1/images/generations").then().statusCode(200).extract().jsonPath()
                .getString("data[0].b64_json");
        String viaTrueCfg = given().contentType(ContentType.JSON).body(base + ",\"true_cfg_scale\":2}")
                .post("/v1/images/generations").then().statusCode(200).extract().jsonPath()
                .getString("data[0].b64_json");
        assertEquals(viaTrueCfg, viaGuidance);
        given().contentType(ContentType.JSON).body(base + ",\"guidance_scale\":2,\"true_cfg_scale\":2}")
                .post("/v1/images/generations").then().statusCode(400).body("error.param", equalTo("guidance_scale"));
    }

    @Test
    void editIsRefusedClearly() {
        given().contentType(ContentType.JSON).body("{\"prompt\":\"make it blue\",\"image\":\"AAAA\"}")
                .post("/edit").then().statusCode(400).body("error.code", equalTo("unsupported_task"))
                .body("error.message", org.hamcrest.Matchers.containsString("does not serve edit"));
    }

    @Test
    void theSizeMultipleIsTheFamilysAndTheOpenAiDoorServesIt() {
        given().contentType(ContentType.JSON).body("{\"prompt\":\"a kite\",\"size\":\"40x32\"}").post("/generate")
                .then().statusCode(400).body("error.param", equalTo("size"));
        given().contentType(ContentType.JSON).body("{\"prompt\":\"a kite\",\"size\":\"32x32\",\"n\":1}")
                .post("/v1/images/generations").then().statusCode(200).body("data.size()", equalTo(1));
    }
}
