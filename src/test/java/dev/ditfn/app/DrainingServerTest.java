package dev.ditfn.app;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A draining server (as after SIGTERM): readiness DOWN, startup still UP, new requests 503 with a reason. */
@QuarkusTest
@TestProfile(DrainingServerTest.OwnInstance.class)
class DrainingServerTest {

    /** Its own application instance: draining is one-way. */
    public static class OwnInstance implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("dit.serving.drain-timeout", "PT1S");
        }
    }

    @Inject
    GracefulDrain drain;

    @Test
    void refusesNewWorkAndTurnsReadinessDown() throws InterruptedException {
        awaitReady();
        String body = "{\"prompt\":\"a boat\",\"size\":\"32x32\",\"num_inference_steps\":2}";
        given().contentType(ContentType.JSON).body(body).post("/generate").then().statusCode(200);

        assertTrue(drain.drain(Duration.ofSeconds(5)), "nothing was running");
        given().contentType(ContentType.JSON).body(body).post("/generate").then().statusCode(503)
                .body("error.message", containsString("shutting down"));
        given().get("/q/health/ready").then().statusCode(503).body("checks[0].data.state", equalTo("draining"));
        given().get("/q/health/started").then().statusCode(200);
    }
}
