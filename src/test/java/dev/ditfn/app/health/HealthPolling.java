package dev.ditfn.app.health;

import io.restassured.path.json.JsonPath;

import java.time.Duration;
import java.util.function.Predicate;

import static io.restassured.RestAssured.given;

/** Polls a health endpoint until its body satisfies a condition (model loading runs in the background). */
public final class HealthPolling {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private HealthPolling() {
    }

    static JsonPath awaitHealth(String path, Predicate<JsonPath> condition) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        JsonPath last = null;
        while (System.nanoTime() < deadline) {
            last = given().get(path).then().extract().jsonPath();
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("health at " + path + " did not reach the expected state within " + LIMIT
                + "; last answer: " + (last == null ? "none" : last.prettify()));
    }

    /** Waits until the model has finished loading and asserts it loaded. */
    public static void awaitReady() throws InterruptedException {
        JsonPath ready = awaitHealth("/q/health/ready", h -> !stateIs(h, "loading"));
        if (!"UP".equals(ready.getString("status"))) {
            throw new AssertionError("the model did not load: " + ready.prettify());
        }
    }

    static boolean stateIs(JsonPath health, String state) {
        return state.equals(health.getString("checks[0].data.state"));
    }
}
