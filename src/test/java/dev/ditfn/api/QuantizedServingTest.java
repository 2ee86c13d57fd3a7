package dev.ditfn.api;

import dev.ditfn.app.ModelFamilies;
import dev.ditfn.bench.ImageMetrics;
import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Set;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny Qwen-Image model served with {@code dit.quantization=int8} (and, in {@link Int4}, int4): a request gives the
 * image the quantized pipeline gives, which differs from the fp32 pipeline's but stays close (PSNR bounds below).
 * {@link QuantizedInt4ServingTest} does the same for int4.
 */
@QuarkusTest
@TestProfile(QuantizedServingTest.Int8Model.class)
class QuantizedServingTest {
    static final Path DIR = Path.of("target", "test-models", "quantized-tiny");
    static final Path INT4_DIR = Path.of("target", "test-models", "quantized-tiny-int4");
    private static final String REQUEST = "{\"prompt\":\"a lighthouse\",\"size\":\"32x32\",\"seed\":3,"
            + "\"num_inference_steps\":6,\"negative_prompt\":\" \",\"true_cfg_scale\":4}";

    public static class Int8Model implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageSnapshot.write(DIR, QwenImageSnapshot.TINY, DType.FLOAT32, 11);
            return Map.of("dit.model.path", DIR.toAbsolutePath().toString(), "dit.quantization", "int8");
        }
    }

    @Inject
    OrtRuntime runtime;

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    Path dir() {
        return DIR;
    }

    /** int8 (block 32) on the random tiny model, 6 steps, against fp32. */
    @Test
    void servedImageIsTheQuantizedPipelinesAndCloseToFp32() throws IOException {
        checkServed(WeightQuantization.of(8, 32), 45); // observed 57.3 dB
    }

    void checkServed(WeightQuantization q, double minPsnr) throws IOException {
        checkServed(new LoadOptions(Set.of()).withTransformerQuantization(q), "transformer " + q, minPsnr);
    }

    /** The served image is the one a pipeline loaded here with {@code quantized} gives, and close to fp32's. */
    void checkServed(LoadOptions quantized, String what, double minPsnr) throws IOException {
        byte[] served = Base64.getDecoder().decode(given().contentType(ContentType.JSON).body(REQUEST)
                .post("/generate").then().statusCode(200).extract().jsonPath().getString("data[0].b64_json"));
        byte[] expected = direct(quantized);
        byte[] full = direct(new LoadOptions(Set.of()));
        assertArrayEquals(expected, served, "the served image is the " + what + " pipeline's");
        assertFalse(java.util.Arrays.equals(full, served), "quantization changes the image");
        double psnr = ImageMetrics.psnr(image(full), image(served));
        System.out.printf("served %s vs fp32: PSNR %.2f dB%n", what, psnr);
        assertTrue(psnr > minPsnr, what + ": PSNR " + psnr + " dB vs fp32, expected above " + minPsnr);
    }

    /** The same request on a pipeline loaded here (by the served runtime) with {@code options}, batched as served. */
    private byte[] direct(LoadOptions options) {
        DiffusersSnapshot snapshot = DiffusersSnapshot.open(dir());
        try (DiffusionPipeline p = ModelFamilies.forPipeline(snapshot.pipelineClass(), dir().resolve("model_index.json"))
                .load(snapshot, runtime, options.withBatchedGuidance(true), s -> { })) {
            return p.generate(GenerationParams.uncached("a lighthouse", " ", 32, 32, 6, 4f, 3, 1,
                    ImageCodec.Format.png), RequestContext.unbounded()).images().get(0).encoded();
        }
    }

    private static BufferedImage image(byte[] png) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(png));
    }
}
