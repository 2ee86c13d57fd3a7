package dev.ditfn.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded mutations of a valid request (deleted fields, swapped types, huge numbers, odd unicode, truncation,
 * duplicate and unknown keys, random bytes) against the running server: never a 5xx, every 4xx in the JSON error
 * shape, and the server still healthy and serving afterwards; over plain HTTP and as CloudEvents. Sizes and step counts stay tiny so the requests that
 * are valid finish fast.
 */
@QuarkusTest
class FuzzRequestTest {
    private static final int REQUESTS = 2000;
    private static final long SEED = 20261127L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String[] FIELDS = {"prompt", "negative_prompt", "width", "height", "size",
        "num_inference_steps", "true_cfg_scale", "seed", "n", "output_format", "cache"};

    private final Random random = new Random(SEED);

    @TestHTTPResource("/generate")
    URI generate;
    @TestHTTPResource("/")
    URI root;

    @Test
    void mutatedRequestsNeverGiveA5xxAndAlwaysOurErrorShape() throws Exception {
        awaitReady();
        Map<Integer, Integer> histogram = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        // A plain HttpClient: REST Assured's per-request overhead would dominate a thousand tiny requests.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long start = System.nanoTime();
        for (int i = 0; i < REQUESTS; i++) {
            byte[] body = mutate();
            // Every fourth as a binary-mode CloudEvent: Funqy reads those itself.
            HttpRequest.Builder request = i % 4 == 3
                    ? HttpRequest.newBuilder(root).header("ce-specversion", "1.0").header("ce-id", "fuzz-" + i)
                            .header("ce-type", ImageFunctions.EVENT_TYPE).header("ce-source", "/tests/fuzz")
                    : HttpRequest.newBuilder(generate);
            HttpResponse<String> r = client.send(request.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            int status = r.statusCode();
            histogram.merge(status, 1, Integer::sum);
            String problem = check(r);
            if (problem != null && problems.size() < 10) {
                problems.add(problem + " for " + new String(body, StandardCharsets.UTF_8));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("fuzz: %d requests in %.1f s, status histogram %s%n", REQUESTS, seconds, histogram);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(histogram.getOrDefault(200, 0) > 50 && histogram.getOrDefault(400, 0) > 800,
                "the mutations reach both the function and the checks: " + histogram);

        awaitReady();
        given().contentType(ContentType.JSON).body("{\"prompt\":\"after the storm\",\"size\":\"16x16\","
                + "\"num_inference_steps\":1}").post("/generate").then().statusCode(200);
    }

    private static String check(HttpResponse<String> r) throws Exception {
        int status = r.statusCode();
        if (status >= 500) {
            return status + " " + r.body();
        }
        JsonNode answer = JSON.readTree(r.body());
        if (status == 200) {
            return answer.path("data").isEmpty() ? "200 without images" : null;
        }
        if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
            return status + " with content type " + r.headers().firstValue("Content-Type");
        }
        JsonNode error = answer.path("error");
        if (!error.path("message").isTextual() || !"invalid_request_error".equals(error.path("type").asText())
                || !error.path("code").isTextual() || !error.has("param")) {
            return status + " not in the error shape: " + r.body();
        }
        return null;
    }

    private ObjectNode valid() {
        ObjectNode o = NODES.objectNode();
        o.put("prompt", "a fox in the snow");
        if (random.nextBoolean()) {
            o.put("size", "16x16");
        } else {
            o.put("width", 16).put("height", 16);
        }
        o.put("num_inference_steps", 1);
        if (random.nextBoolean()) {
            o.put("seed", random.nextInt(1000));
        }
        if (random.nextInt(10) == 0) {
            o.put("n", 2);
        }
        if (random.nextInt(10) == 0) {
            o.put("negative_prompt", "blurry").put("true_cfg_scale", 2.5);
        }
        if (random.nextInt(4) == 0) {
            o.put("output_format", "jpeg");
        }
        if (random.nextInt(4) == 0) {
            o.set("cache", NODES.objectNode().put("backend", random.nextBoolean() ? "tea_cache" : "none"));
        }
        return o;
    }

    private byte[] mutate() throws Exception {
        ObjectNode o = valid();
        String field = FIELDS[random.nextInt(FIELDS.length)];
        switch (random.nextInt(11)) {
            case 0 -> {
                return bytes(o); // valid: keeps the function itself under the fuzz
            }
            case 1 -> o.remove(field);
            case 2 -> o.set(field, oddValue());
            case 3 -> o.set(field, hugeNumber());
            case 4 -> o.put(random.nextBoolean() ? "prompt" : "negative_prompt", oddText());
            case 5 -> {
                byte[] b = bytes(o);
                return java.util.Arrays.copyOf(b, random.nextInt(b.length));
            }
            case 6 -> {
                String s = new String(bytes(o), StandardCharsets.UTF_8);
                String dup = "\"" + field + "\":" + JSON.writeValueAsString(oddValue()) + ",";
                return ("{" + dup + s.substring(1)).getBytes(StandardCharsets.UTF_8);
            }
            case 7 -> {
                byte[] b = new byte[random.nextInt(200)];
                random.nextBytes(b);
                return b;
            }
            case 8 -> o.set(misspelled(field), oddValue());
            case 9 -> o.set("cache", oddCache());
            default -> {
                byte[] b = bytes(o);
                b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                return b;
            }
        }
        return bytes(o);
    }

    private static byte[] bytes(JsonNode n) throws Exception {
        return JSON.writeValueAsBytes(n);
    }

    /** Values of every JSON type, picked so that none is a large valid size or a long run. */
    private JsonNode oddValue() {
        return switch (random.nextInt(12)) {
            case 0 -> NODES.textNode("");
            case 1 -> NODES.textNode("64");
            case 2 -> NODES.numberNode(new int[] {-1, 0, 2, 100000, Integer.MAX_VALUE, Integer.MIN_VALUE}[
                    random.nextInt(6)]);
            case 3 -> NODES.numberNode(random.nextDouble() * 10);
            case 4 -> NODES.booleanNode(random.nextBoolean());
            case 5 -> NODES.nullNode();
            case 6 -> NODES.arrayNode().add(1).add("two");
            case 7 -> NODES.objectNode().put("a", 1);
            case 8 -> NODES.textNode("16x16x16");
            case 9 -> NODES.numberNode(1.5);
            case 10 -> NODES.numberNode(Long.MAX_VALUE);
            default -> NODES.textNode(oddText());
        };
    }

    private JsonNode hugeNumber() {
        return switch (random.nextInt(6)) {
            case 0 -> NODES.numberNode(new java.math.BigInteger("9".repeat(1 + random.nextInt(60))));
            case 1 -> NODES.numberNode(new java.math.BigDecimal("1e" + (300 + random.nextInt(400))));
            case 2 -> NODES.numberNode(new java.math.BigDecimal("-1e-" + (300 + random.nextInt(400))));
            case 3 -> NODES.numberNode(Long.MIN_VALUE);
            case 4 -> NODES.numberNode(new java.math.BigInteger("9223372036854775808"));
            default -> NODES.numberNode(Double.MAX_VALUE);
        };
    }

    private String oddText() {
        StringBuilder b = new StringBuilder();
        int length = random.nextInt(40);
        for (int i = 0; i < length; i++) {
            int kind = random.nextInt(5);
            if (kind == 0) {
                b.append((char) (0xD800 + random.nextInt(0x800))); // lone surrogates
            } else if (kind == 1) {
                b.appendCodePoint(0x1F300 + random.nextInt(0x300)); // emoji
            } else if (kind == 2) {
                b.append((char) random.nextInt(0x20)); // control characters, NUL included
            } else if (kind == 3) {
                b.append("\u202E\u200B\uFEFF".charAt(random.nextInt(3)));
            } else {
                b.append((char) ('a' + random.nextInt(26)));
            }
        }
        return b.toString();
    }

    private String misspelled(String field) {
        return switch (random.nextInt(3)) {
            case 0 -> field.substring(0, field.length() - 1);
            case 1 -> field.toUpperCase();
            default -> field + "_";
        };
    }

    private JsonNode oddCache() {
        ObjectNode c = NODES.objectNode().put("backend", new String[] {"cache_dit", "tea_cache", "none", "magic"}[
                random.nextInt(4)]);
        String[] keys = {"Fn_compute_blocks", "Bn_compute_blocks", "rel_l1_thresh", "max_warmup_steps", "trace",
            "scm_steps_mask_policy", "coefficients", "bogus"};
        c.set(keys[random.nextInt(keys.length)], oddValue());
        if (random.nextBoolean()) {
            ArrayNode list = c.putArray("coefficients");
            for (int i = random.nextInt(7); i > 0; i--) {
                list.add(random.nextGaussian());
            }
        }
        return c;
    }
}
