package dev.ditfn.api;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code generate} as a Knative event consumer: real CloudEvents over HTTP in binary mode ({@code ce-*} headers,
 * JSON body) and structured mode ({@code application/cloudevents+json} envelope), posted to the service root as a
 * Broker's Trigger delivers them, and to {@code /generate}.
 */
@QuarkusTest
class CloudEventsTest {
    private static final String REQUEST = "{\"prompt\":\"a red fox in the snow\",\"width\":48,\"height\":32,"
            + "\"num_inference_steps\":2,\"seed\":7}";

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static Response binary(String path, String type, String id, String body) {
        return given().header("ce-specversion", "1.0").header("ce-id", id).header("ce-type", type)
                .header("ce-source", "/tests/cloud-events").contentType(ContentType.JSON).body(body).post(path);
    }

    private static Response structured(String path, String type, String id, String data) {
        String event = "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"type\":\"" + type + "\","
                + "\"source\":\"/tests/cloud-events\",\"datacontenttype\":\"application/json\",\"data\":" + data + "}";
        return given().contentType("application/cloudevents+json; charset=UTF-8").body(event).post(path);
    }

    private static byte[] image(JsonPath generateResponse) {
        return Base64.getDecoder().decode(generateResponse.getString("data[0].b64_json"));
    }

    private static byte[] plainHttpImage() {
        return image(given().contentType(ContentType.JSON).body(REQUEST).post("/generate").then().statusCode(200)
                .extract().jsonPath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/generate"})
    void binaryEventIsAnsweredByABinaryEventWithTheImage(String path) throws IOException {
        Response r = binary(path, ImageFunctions.EVENT_TYPE, "evt-binary-1", REQUEST);
        r.then().statusCode(200)
                .header("ce-type", ImageFunctions.RESPONSE_TYPE)
                .header("ce-source", ImageFunctions.EVENT_SOURCE)
                .header("ce-specversion", "1.0");
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
        String id = r.header("ce-id");
        assertFalse(id == null || id.isBlank(), "the response event has an id");
        assertNotEquals("evt-binary-1", id, "a new event, not the request's id");
        JsonPath data = r.jsonPath();
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(image(data)));
        assertEquals(48, img.getWidth());
        assertEquals(32, img.getHeight());
        assertEquals(7L, data.getLong("data[0].seed"));
        assertArrayEquals(plainHttpImage(), image(data), "the same request gives the same bytes as plain HTTP");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/generate"})
    void structuredEventIsAnsweredByAStructuredEventWithTheImage(String path) throws IOException {
        Response r = structured(path, ImageFunctions.EVENT_TYPE, "evt-structured-1", REQUEST);
        r.then().statusCode(200).contentType("application/cloudevents+json")
                .body("specversion", equalTo("1.0"))
                .body("type", equalTo(ImageFunctions.RESPONSE_TYPE))
                .body("source", equalTo(ImageFunctions.EVENT_SOURCE))
                .body("datacontenttype", equalTo("application/json"));
        JsonPath event = r.jsonPath();
        assertFalse(event.getString("id").isBlank());
        JsonPath data = JsonPath.from(r.body().asString()).setRootPath("data");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(image(data)));
        assertEquals(48, img.getWidth());
        assertEquals("48x32", data.getString("size"));
        assertArrayEquals(plainHttpImage(), image(data), "the same request gives the same bytes as plain HTTP");
    }

    @Test
    void unmappedEventTypeIs404() {
        binary("/", "generate", "evt-unmapped", REQUEST).then().statusCode(404);
        structured("/", "dev.ditfn.unknown", "evt-unmapped-2", REQUEST).then().statusCode(404);
    }

    @Test
    void invalidRequestInAnEventIsTheSameJson400AsOverHttp() {
        String bad = "{\"prompt\":\"x\",\"width\":50,\"height\":64}";
        binary("/", ImageFunctions.EVENT_TYPE, "evt-bad-1", bad).then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("error.param", equalTo("width"))
                .body("error.type", equalTo("invalid_request_error"));
        structured("/", ImageFunctions.EVENT_TYPE, "evt-bad-2", bad).then().statusCode(400)
                .body("error.param", equalTo("width"));
    }
}
