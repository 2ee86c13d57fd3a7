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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loading -> UP transition, observed for real: the model's {@code model_index.json} is a named pipe, so loading
 * blocks until the test writes it. Also runs with {@code dit.device=cann} and fallback allowed (neither the CPU nor
 * the CUDA build has CANN), so the CPU fallback must show in every probe.
 */
@QuarkusTest
@TestProfile(LoadingHealthTest.BlockedModel.class)
class LoadingHealthTest {

    public static class BlockedModel implements QuarkusTestProfile {
        static final Path DIR = Path.of("target", "test-models", "blocked").toAbsolutePath();
        static final Path INDEX = DIR.resolve("model_index.json");
        static final Path SAVED_INDEX = DIR.resolve("model_index.json.saved");
        private static final java.util.concurrent.atomic.AtomicBoolean PREPARED =
                new java.util.concurrent.atomic.AtomicBoolean();

        private static void deleteTree(Path dir) {
            if (!Files.exists(dir)) {
                return;
            }
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            // Quarkus asks for the overrides more than once; the pipe must be made once per run.
            if (PREPARED.compareAndSet(false, true)) {
                makeModelWithBlockingIndex();
            }
            return Map.of("dit.model.path", DIR.toString(), "dit.device", "cann", "dit.fallback-to-cpu", "true");
        }

        private static void makeModelWithBlockingIndex() {
            deleteTree(DIR);
            QwenImageSnapshot.write(DIR, QwenImageSnapshot.TINY, DType.FLOAT32, 3);
            try {
                Files.move(INDEX, SAVED_INDEX, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Process mkfifo = new ProcessBuilder("mkfifo", INDEX.toString()).inheritIO().start();
                if (mkfifo.waitFor() != 0) {
                    throw new IllegalStateException("mkfifo failed");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void probesAreDownWhileLoadingThenUp() throws InterruptedException, IOException {
        JsonPath loading = awaitHealth("/q/health/started",
                h -> String.valueOf(h.getString("checks[0].data.loading")).startsWith("opening snapshot"));
        assertEquals("DOWN", loading.getString("status"));
        assertTrue(stateIs(loading, "loading"), loading.prettify());
        assertFallbackReported(loading);
        assertEquals("opening snapshot blocked", loading.getString("checks[0].data.loading"), "no absolute path");
        given().get("/q/health/ready").then().statusCode(503);
        given().get("/q/health/live").then().statusCode(200);
        given().contentType(ContentType.JSON).body("{\"prompt\":\"too early\"}").post("/generate").then()
                .statusCode(503).header("Retry-After", "5").body("error.message", containsString("still loading"))
                .body("error.message", not(containsString(BlockedModel.DIR.toString())));
        given().contentType(ContentType.JSON).body("{\"prompt\":\"too early\"}").post("/v1/images/generations").then()
                .statusCode(503).body("error.type", equalTo("service_unavailable"))
                .body("error.message", containsString("still loading"));
        given().get("/v1/models").then().statusCode(503).body("error.message", containsString("still loading"));

        // Unblock the loader: it is waiting to read the pipe.
        Files.write(BlockedModel.INDEX, Files.readAllBytes(BlockedModel.SAVED_INDEX));

        JsonPath ready = awaitHealth("/q/health/ready", h -> !stateIs(h, "loading"));
        assertEquals("UP", ready.getString("status"), ready.prettify());
        assertFallbackReported(ready);
        given().get("/q/health/started").then().statusCode(200);
    }

    private static void assertFallbackReported(JsonPath health) {
        assertEquals("cpu", health.getString("checks[0].data.device"));
        assertEquals("cann", health.getString("checks[0].data.device_requested"));
        assertTrue(health.getString("checks[0].data.device_fallback").startsWith("dit.device=cann: "),
                health.prettify());
    }
}
