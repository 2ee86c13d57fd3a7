package dev.ditfn.app.health;

import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitHealth;
import static dev.ditfn.app.health.HealthPolling.stateIs;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model whose weight file is truncated: readiness and startup go DOWN with an error naming file and tensor. */
@QuarkusTest
@TestProfile(FailedLoadHealthTest.TruncatedModel.class)
class FailedLoadHealthTest {

    public static class TruncatedModel implements QuarkusTestProfile {
        static final Path DIR = Path.of("target", "test-models", "truncated");
        static final Path WEIGHTS = DIR.resolve("transformer/diffusion_pytorch_model.safetensors");

        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageSnapshot.write(DIR, QwenImageSnapshot.TINY, DType.FLOAT32, 7);
            try (RandomAccessFile f = new RandomAccessFile(WEIGHTS.toFile(), "rw")) {
                f.setLength(f.length() - 10);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("dit.model.path", DIR.toAbsolutePath().toString());
        }
    }

    @Test
    void failureIsReportedWithTheFileAndTensor() throws InterruptedException, IOException {
        JsonPath ready = awaitHealth("/q/health/ready", h -> !stateIs(h, "loading"));
        assertEquals("DOWN", ready.getString("status"), ready.prettify());
        assertEquals("failed", ready.getString("checks[0].data.state"));
        String error = ready.getString("checks[0].data.error");
        assertTrue(error.contains("truncated/transformer/diffusion_pytorch_model.safetensors"), error);
        assertTrue(!error.contains(TruncatedModel.DIR.toAbsolutePath().toString()), "no absolute path: " + error);
        assertTrue(error.contains("truncated") && error.contains("tensor '"), error);
        assertTrue(Files.exists(TruncatedModel.WEIGHTS), "the model files are left untouched");

        given().get("/q/health/ready").then().statusCode(503);
        given().get("/q/health/started").then().statusCode(503).body("checks[0].data.state", equalTo("failed"))
                .body("checks[0].data.error", containsString("truncated"));
        given().contentType(ContentType.JSON).body("{\"prompt\":\"x\"}").post("/generate").then().statusCode(503)
                .header("Retry-After", notNullValue())
                .body("error.message", containsString("truncated/transformer/diffusion_pytorch_model.safetensors"))
                .body("error.message", not(containsString(TruncatedModel.DIR.toAbsolutePath().toString())));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }
}
