package dev.ditfn.api;

import dev.ditfn.testing.Scrape;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /q/metrics} after real requests: every counter moves by exactly what was done. */
@QuarkusTest
class MetricsTest {
    private static final String OK = "dit_requests_seconds_count{function=\"generate\",status=\"200\"}";
    private static final String BAD = "dit_requests_seconds_count{function=\"generate\",status=\"400\"}";

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static String stage(String name) {
        return "dit_stage_duration_seconds_count{stage=\"" + name + "\"}";
    }

    private static String steps(String backend, String branch, String kind) {
        return "dit_cache_steps_total{backend=\"" + backend + "\",branch=\"" + branch + "\",kind=\"" + kind + "\"}";
    }

    @Test
    void requestsStagesAndStepsAreCounted() throws InterruptedException {
        Scrape before = Scrape.now();
        int requests = 3;
        int stepsEach = 3;
        for (int i = 0; i < requests; i++) {
            given().contentType(ContentType.JSON).body("{\"prompt\":\"a mill\",\"size\":\"32x32\",\"num_inference_steps\":"
                    + stepsEach + ",\"negative_prompt\":\" \",\"true_cfg_scale\":2,\"cache\":{\"backend\":\"none\"}}")
                    .post("/generate").then().statusCode(200);
        }
        given().contentType(ContentType.JSON).body("{\"prompt\":\"a mill\",\"num_inference_steps\":0}")
                .post("/generate").then().statusCode(400);
        // A request is counted when its answer has been written, a hair after the client may have read it.
        Scrape after = Scrape.await(BAD, v -> v >= before.value(BAD) + 1, Duration.ofSeconds(10));

        assertEquals(before.value(OK) + requests, after.value(OK));
        assertEquals(before.value(BAD) + 1, after.value(BAD));
        for (String s : new String[] {"text_encode", "denoise", "decode"}) {
            assertEquals(before.value(stage(s)) + requests, after.value(stage(s)), s);
            assertTrue(after.has("dit_stage_duration_seconds_bucket{stage=\"" + s + "\",le=\"+Inf\"}"),
                    s + " is a histogram");
        }
        for (String branch : new String[] {"cond", "uncond"}) {
            assertEquals(before.value(steps("none", branch, "computed")) + requests * stepsEach,
                    after.value(steps("none", branch, "computed")), branch);
            assertEquals(before.value(steps("none", branch, "cached")), after.value(steps("none", branch, "cached")));
        }
        String fraction = "dit_cache_blocks_computed_fraction";
        assertEquals(before.value(fraction + "_count{backend=\"none\"}") + requests,
                after.value(fraction + "_count{backend=\"none\"}"));
        assertEquals(before.value(fraction + "_sum{backend=\"none\"}") + requests,
                after.value(fraction + "_sum{backend=\"none\"}"), 1e-9, "no step cache runs every block");
        assertTrue(after.value("dit_model_load_seconds") > 0);
        assertEquals(0, after.value("dit_requests_in_flight"));
        assertEquals(0, after.value("dit_queue_depth"));
        assertTrue(after.has("dit_requests_rejected_total"));
    }

    @Test
    void aStepCacheReportsTheStepsItReused() {
        String cached = steps("cache_dit", "cond", "cached");
        String computed = steps("cache_dit", "cond", "computed");
        Scrape before = Scrape.now();
        var r = given().contentType(ContentType.JSON).body("{\"prompt\":\"a mill\",\"size\":\"32x32\","
                + "\"num_inference_steps\":12,\"cache\":{\"backend\":\"cache_dit\",\"residual_diff_threshold\":10}}")
                .post("/generate").then().statusCode(200).extract().jsonPath();
        Scrape after = Scrape.now();
        int reused = r.getList("cache.branches.cond.cached_steps").size();
        assertTrue(reused > 0, "a threshold of 10 reuses steps after the warm-up: " + r.prettify());
        assertEquals(before.value(cached) + reused, after.value(cached));
        assertEquals(before.value(computed) + 12 - reused, after.value(computed));
    }
}
