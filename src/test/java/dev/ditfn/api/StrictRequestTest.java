package dev.ditfn.api;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile and sloppy bodies for {@code POST /generate}: every one is a JSON 400 (or 413/415) naming what is wrong. */
@QuarkusTest
class StrictRequestTest {

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static Response post(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/generate");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"prompt\": |invalid_json|prompt",
        "{\"prompt\":\"x\"} trailing|invalid_json|",
        "{\"prompt\":\"x\"}{\"prompt\":\"y\"}|invalid_json|",
        "{\"prompt\":\"x\",\"prompt\":\"y\"}|invalid_json|prompt",
        "[1,2]|invalid_type|",
        "{\"prompt\":\"x\",\"width\":\"wide\"}|invalid_type|width",
        "{\"prompt\":\"x\",\"width\":\"\"}|invalid_type|width",
        "{\"prompt\":\"x\",\"seed\":\"\"}|invalid_type|seed",
        "{\"prompt\":\"x\",\"n\":1.5}|invalid_type|n",
        "{\"prompt\":\"x\",\"num_inference_steps\":2.0}|invalid_type|num_inference_steps",
        "{\"prompt\":\"x\",\"width\":\"64\"}|invalid_type|width",
        "{\"prompt\":\"x\",\"width\":99999999999}|invalid_type|width",
        "{\"prompt\":\"x\",\"seed\":99999999999999999999999}|invalid_type|seed",
        "{\"prompt\":\"x\",\"true_cfg_scale\":\"4\"}|invalid_type|true_cfg_scale",
        "{\"prompt\":7}|invalid_type|prompt",
        "{\"prompt\":\"x\",\"cache\":[]}|invalid_type|cache",
        "{\"prompt\":\"x\",\"num_inference_step\":1}|unknown_parameter|num_inference_step",
        "{\"prompt\":\"x\",\"guidance\":1}|unknown_parameter|guidance",
        "{\"prompt\":\"x\",\"cache\":{\"bogus\":1}}|unknown_parameter|cache.bogus",
        "{\"prompt\":\"x\",\"cache\":{\"trace\":\"yes\"}}|invalid_type|cache.trace",
    })
    void malformedOrMistypedBodyIsA400NamingTheField(String body, String code, String param) {
        Response r = post(body);
        r.then().statusCode(400).contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo(code))
                .body("error.message", notNullValue())
                .body("error.param", equalTo(param));
    }

    @Test
    void emptyBodyIs400() {
        post("").then().statusCode(400).contentType(ContentType.JSON).body("error.code", equalTo("invalid_json"))
                .body("error.message", containsString("empty"));
    }

    @Test
    void seedWhoseLastImageOverflowsIsRefused() {
        post("{\"prompt\":\"x\",\"size\":\"16x16\",\"num_inference_steps\":1,\"n\":2,\"seed\":9223372036854775807}")
                .then().statusCode(400).body("error.param", equalTo("seed"))
                .body("error.message", containsString("n - 1"));
    }

    @Test
    void nonJsonContentTypesAre415() {
        // What an HTML form on another site can send without a CORS preflight.
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded")) {
            given().contentType(type).body("{\"prompt\":\"x\",\"size\":\"16x16\",\"num_inference_steps\":1}")
                    .post("/generate").then().statusCode(415).contentType(ContentType.JSON)
                    .body("error.type", equalTo("invalid_request_error"))
                    .body("error.code", equalTo("unsupported_media_type"));
        }
        given().body("{\"prompt\":\"x\"}".getBytes()).post("/generate").then().statusCode(415);
    }

    /** A GET can be triggered by any page (an image tag): generate takes POST only. */
    @Test
    void getIs405() {
        given().queryParam("prompt", "x").queryParam("size", "16x16").queryParam("num_inference_steps", "1")
                .get("/generate").then().statusCode(405).contentType(ContentType.JSON)
                .body("error.code", equalTo("method_not_allowed"));
    }

    @Test
    void tooLargeBodyIs413InTheErrorShape() {
        String prompt = "x".repeat(9 * 1024 * 1024);
        post("{\"prompt\":\"" + prompt + "\"}").then().statusCode(413).contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("request_too_large"))
                .body("error.message", containsString("8M"));
    }

    @Test
    void clientErrorsLogNoStackTraceAndNoError() {
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (records) {
                    records.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        try {
            post("{\"prompt\": ").then().statusCode(400);
            post("{\"prompt\":\"x\",\"width\":\"wide\"}").then().statusCode(400);
            post("{\"prompt\":\"x\",\"bogus\":1}").then().statusCode(400);
            given().header("ce-specversion", "1.0").header("ce-id", "bad-1").header("ce-type", ImageFunctions.EVENT_TYPE)
                    .header("ce-source", "/tests").contentType(ContentType.JSON).body("{\"prompt\":\"x\",\"width\":\"w\"}")
                    .post("/").then().statusCode(400);
            given().contentType("application/cloudevents+json").body("{\"specversion\":").post("/").then()
                    .statusCode(400);
            given().contentType("text/plain").body("x").post("/generate").then().statusCode(415);
        } finally {
            root.removeHandler(capture);
        }
        synchronized (records) {
            for (LogRecord r : records) {
                String line = String.valueOf(r.getMessage());
                assertTrue(r.getLevel().intValue() < Level.WARNING.intValue() && r.getThrown() == null
                        && line.length() < 300, "client error logged as " + r.getLevel() + ": " + line
                        + (r.getThrown() == null ? "" : " with " + r.getThrown()));
            }
        }
    }

    @Test
    void cloudEventsWithBadDataGetTheSameJsonErrors() {
        given().header("ce-specversion", "1.0").header("ce-id", "bad-2").header("ce-type", ImageFunctions.EVENT_TYPE)
                .header("ce-source", "/tests").contentType(ContentType.JSON)
                .body("{\"prompt\":\"x\",\"num_inference_step\":1}").post("/").then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo("unknown_parameter"))
                .body("error.param", equalTo("num_inference_step"));
        given().header("ce-specversion", "1.0").header("ce-id", "bad-7").header("ce-type", ImageFunctions.EVENT_TYPE)
                .header("ce-source", "/tests").contentType(ContentType.JSON)
                .body("{\"prompt\":\"x\",\"width\":99999999999}").post("/").then().statusCode(400)
                .body("error.code", equalTo("invalid_type")).body("error.param", equalTo("width"));
        // Funqy reads event data case-insensitively; a differently cased name is still an unknown field.
        given().header("ce-specversion", "1.0").header("ce-id", "bad-4").header("ce-type", ImageFunctions.EVENT_TYPE)
                .header("ce-source", "/tests").contentType(ContentType.JSON)
                .body("{\"Prompt\":\"x\",\"size\":\"16x16\",\"num_inference_steps\":1}").post("/").then()
                .statusCode(400).body("error.code", equalTo("unknown_parameter")).body("error.param", equalTo("Prompt"));
        String event = "{\"specversion\":\"1.0\",\"id\":\"bad-3\",\"type\":\"" + ImageFunctions.EVENT_TYPE + "\","
                + "\"source\":\"/tests\",\"datacontenttype\":\"application/json\",\"data\":{\"prompt\":\"x\",\"n\":1.5}}";
        given().contentType("application/cloudevents+json").body(event).post("/").then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo("invalid_type"))
                .body("error.param", equalTo("n"));
        given().contentType("application/cloudevents+json").body("{\"specversion\":").post("/").then()
                .statusCode(400).body("error.code", equalTo("invalid_json"));
        given().contentType("application/cloudevents+json").body("{\"specversion\":\"1.0\",\"id\":\"bad-5\"}").post("/")
                .then().statusCode(400).body("error.param", equalTo("type"));
        for (String path : List.of("/", "/generate")) {
            given().header("ce-specversion", "1.0").header("ce-id", "bad-6").header("ce-type", ImageFunctions.EVENT_TYPE)
                    .header("ce-source", "/tests").contentType(ContentType.JSON).body("").post(path).then()
                    .statusCode(400).body("error.code", equalTo("invalid_json"));
        }
    }
}
