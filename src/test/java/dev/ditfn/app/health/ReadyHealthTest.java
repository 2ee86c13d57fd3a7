package dev.ditfn.app.health;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import static dev.ditfn.app.health.HealthPolling.awaitHealth;
import static dev.ditfn.app.health.HealthPolling.stateIs;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With no model configured, the embedded model is generated, loaded in the background, and the probes turn UP. */
@QuarkusTest
class ReadyHealthTest {

    @Test
    void embeddedModelLoadsAndEveryProbeIsUp() throws InterruptedException {
        JsonPath ready = awaitHealth("/q/health/ready", h -> !stateIs(h, "loading"));
        assertEquals("UP", ready.getString("status"), ready.prettify());
        assertEquals("ready", ready.getString("checks[0].data.state"));
        assertEquals("qwen-image-scenes-v3", ready.getString("checks[0].data.model"));
        assertEquals("qwen-image-scenes-v3", ready.getString("checks[0].data.model_dir"),
                "the directory's name only: probes are not the place to show the server's file system");
        assertEquals("QwenImagePipeline", ready.getString("checks[0].data.pipeline"));
        assertEquals("cpu", ready.getString("checks[0].data.device"));
        assertTrue(ready.getInt("checks[0].data.tensors") > 100, ready.prettify());
        assertTrue(ready.getLong("checks[0].data.weight_bytes") > 100_000, ready.prettify());

        given().get("/q/health/started").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("model-started"));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("process"));
        given().get("/q/health").then().statusCode(200).body("status", equalTo("UP"));
    }
}
