package dev.ditfn.api;

import dev.ditfn.testing.Scrape;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admission, deadlines and cancellation through real HTTP on the embedded tiny model: one request runs, one waits,
 * the next is refused; a deadline stops a long request with 504; a client that disconnects frees its slot.
 */
@QuarkusTest
@TestProfile(AdmissionTest.OneSlotOneQueued.class)
class AdmissionTest {
    private static final Duration AWAIT = Duration.ofSeconds(60);
    private static final String IN_FLIGHT = "dit_requests_in_flight";
    private static final String QUEUED = "dit_queue_depth";

    public static class OneSlotOneQueued implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("dit.serving.max-concurrent", "1", "dit.serving.max-queued", "1");
        }
    }

    /** Long enough to be still running while a test looks: the most steps, no step cache. */
    private static String request(int steps, int size) {
        return "{\"prompt\":\"a lighthouse\",\"size\":\"" + size + "x" + size + "\",\"num_inference_steps\":" + steps
                + ",\"seed\":3,\"cache\":{\"backend\":\"none\"}}";
    }

    private static final String LONG = request(200, 512);
    private static final String SHORT = request(2, 32);

    @BeforeEach
    void idle() throws InterruptedException {
        awaitReady();
        Scrape.await(IN_FLIGHT, v -> v == 0, AWAIT);
        Scrape.await(QUEUED, v -> v == 0, AWAIT);
    }

    /** A request whose client can vanish mid-flight: closing it drops the connection without reading a byte. */
    private static Socket send(String body) throws IOException {
        Socket s = new Socket("localhost", RestAssured.port);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST /generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return s;
    }

    @Test
    void aFullQueueIsRefusedWith429AndRetryAfter() throws Exception {
        double rejectedBefore = Scrape.now().value("dit_requests_rejected_total");
        try (Socket running = send(LONG)) {
            Scrape.await(IN_FLIGHT, v -> v == 1, AWAIT);
            try (Socket waiting = send(LONG)) {
                Scrape.await(QUEUED, v -> v == 1, AWAIT);
                Response refused = given().contentType(ContentType.JSON).body(SHORT).post("/generate");
                refused.then().statusCode(429).contentType(ContentType.JSON)
                        .body("error.type", equalTo("rate_limit_exceeded"))
                        .body("error.message", containsString("1 running and 1 queued"));
                long retryAfter = Long.parseLong(refused.header("Retry-After"));
                assertTrue(retryAfter >= 1, "Retry-After " + retryAfter);
                // the OpenAI front door shares the slots and the queue
                Response openAi = given().contentType(ContentType.JSON).body("{\"prompt\":\"a pear\",\"size\":\"32x32\","
                        + "\"num_inference_steps\":1}").post("/v1/images/generations");
                openAi.then().statusCode(429).body("error.type", equalTo("rate_limit_exceeded"))
                        .body("error.code", equalTo("rate_limit_exceeded"));
                assertTrue(Long.parseLong(openAi.header("Retry-After")) >= 1);
                assertEquals(rejectedBefore + 2, Scrape.now().value("dit_requests_rejected_total"));
            }
            // The waiting client left: its queue place is free again while the first still runs.
            Scrape.await(QUEUED, v -> v == 0, AWAIT);
            assertEquals(1, Scrape.now().value(IN_FLIGHT));
        }
        Scrape.await(IN_FLIGHT, v -> v == 0, AWAIT);
        given().contentType(ContentType.JSON).body(SHORT).post("/generate").then().statusCode(200);
    }

    @Test
    void aPassedDeadlineGets504AndTheNextRequestRuns() throws InterruptedException {
        double before = Scrape.now().value("dit_requests_deadline_exceeded_total");
        given().contentType(ContentType.JSON).header(GenerationGate.TIMEOUT_HEADER, "0.3").body(LONG)
                .post("/generate").then().statusCode(504).contentType(ContentType.JSON)
                .body("error.type", equalTo("timeout_error"))
                .body("error.message", containsString("300 ms timeout"));
        assertEquals(before + 1, Scrape.now().value("dit_requests_deadline_exceeded_total"));
        Scrape.await(IN_FLIGHT, v -> v == 0, AWAIT);
        given().contentType(ContentType.JSON).body(SHORT).post("/generate").then().statusCode(200);
    }

    @Test
    void aTimeoutHeaderMustBeAPositiveNumber() {
        given().contentType(ContentType.JSON).header(GenerationGate.TIMEOUT_HEADER, "soon").body(SHORT)
                .post("/generate").then().statusCode(400).body("error.param", equalTo("X-Request-Timeout"));
    }

    @Test
    void aDisconnectedClientFreesItsSlotWithinOneStep() throws Exception {
        // One step of the long request, measured on a short request of the same size.
        JsonPath reference = given().contentType(ContentType.JSON).body(request(4, 512)).post("/generate").then()
                .statusCode(200).extract().jsonPath();
        double stepSeconds = reference.getDouble("timings_ms.denoise") / 4 / 1000;
        Scrape before = Scrape.now();
        try (Socket gone = send(LONG)) {
            Scrape.await(IN_FLIGHT, v -> v == 1, AWAIT);
        }
        long closed = System.nanoTime();
        Scrape after = Scrape.await(IN_FLIGHT, v -> v == 0, AWAIT);
        // Seen from the client: an upper bound, scrape round trips included.
        double seenFree = (System.nanoTime() - closed) / 1e9;
        assertEquals(before.value("dit_requests_cancelled_total") + 1, after.value("dit_requests_cancelled_total"));
        // The request metrics saw it leave without an answer.
        String closedSeries = "dit_requests_seconds_count{function=\"generate\",status=\"closed\"}";
        assertEquals(before.value(closedSeries) + 1, after.value(closedSeries));
        assertEquals(before.value("dit_cancel_release_seconds_count") + 1,
                after.value("dit_cancel_release_seconds_count"));
        double release = after.value("dit_cancel_release_seconds_sum") - before.value("dit_cancel_release_seconds_sum");
        System.out.printf("cancellation to free slot: %.1f ms; disconnect to free slot seen by the client: %.1f ms"
                + " (one denoising step: %.1f ms)%n", release * 1000, seenFree * 1000, stepSeconds * 1000);
        // Generous for a noisy machine, yet far below the 200 steps left had the work gone on.
        assertTrue(release < 2 * stepSeconds + 1.0, "slot freed " + release + " s after the disconnect; one step is "
                + stepSeconds + " s");
        given().contentType(ContentType.JSON).body(SHORT).post("/generate").then().statusCode(200);
    }
}
