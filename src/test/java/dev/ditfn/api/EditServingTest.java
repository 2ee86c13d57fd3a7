package dev.ditfn.api;

import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /edit} on a generated Qwen-Image-Edit snapshot (edit-tiny), over HTTP: image in, image out, and every bad
 * input a 400 naming the field. The image areas are scaled down (64² VAE image, 64² default output area) so that a
 * request takes well under a second.
 */
@QuarkusTest
@TestProfile(EditServingTest.EditModel.class)
class EditServingTest {

    public static class EditModel implements QuarkusTestProfile {
        static final Path DIR = Path.of("target", "test-models", "edit-tiny");

        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageSnapshot.write(DIR, QwenImageSnapshot.EDIT_TINY, DType.FLOAT32, 6);
            return Map.of("dit.model.path", DIR.toAbsolutePath().toString(), "dit.edit.vae-image-area", "4096",
                    "dit.edit.default-area", "4096", "dit.edit.max-input-pixels", "20000");
        }
    }

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    static String png(int w, int h, int seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 7 + seed * 50) << 16 | (y * 5 + seed * 30) << 8 | ((x + y) * 3 & 0xff));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    private static JsonPath edit(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/edit").then().statusCode(200).extract()
                .jsonPath();
    }

    private static String body(String prompt, String image, String extra) {
        return "{\"prompt\":\"" + prompt + "\",\"image\":\"" + image + "\",\"seed\":5,\"num_inference_steps\":3"
                + extra + "}";
    }

    @Test
    void editsAPngIntoAnImageOfTheInputsAspectRatio() throws IOException {
        String in = png(80, 40, 1);
        JsonPath r = edit(body("make it blue", in, ""));
        BufferedImage out = ImageIO.read(new ByteArrayInputStream(
                Base64.getDecoder().decode(r.getString("data[0].b64_json"))));
        // calculate_dimensions(64², 2) = (96, 32) at multiples of 32, then floored to 16
        assertEquals(96, out.getWidth());
        assertEquals(32, out.getHeight());
        assertEquals("[80x40]", r.getList("parameters.input_images").toString());
        assertTrue(r.getMap("timings_ms").containsKey("image_encode"));
        assertTrue(r.getMap("timings_ms").containsKey("vision_encode"));
        String same = edit(body("make it blue", in, "")).getString("data[0].b64_json");
        assertEquals(r.getString("data[0].b64_json"), same, "same seed, same bytes");
        assertNotEquals(r.getString("data[0].b64_json"),
                edit(body("make it red", in, "")).getString("data[0].b64_json"), "the instruction matters");
        assertNotEquals(r.getString("data[0].b64_json"),
                edit(body("make it blue", png(80, 40, 2), "")).getString("data[0].b64_json"), "the image matters");
        JsonPath sized = edit(body("make it blue", in, ",\"size\":\"32x48\""));
        assertEquals("32x48", sized.getString("size"));
    }

    @Test
    void badImagesAre400sNamingTheField() throws IOException {
        String in = png(40, 40, 1);
        String[][] cases = {
            {"{\"prompt\":\"x\"}", "image", "invalid_value"},
            {"{\"prompt\":\"x\",\"image\":\"" + in + "\",\"images\":[\"" + in + "\"]}", "images", "invalid_value"},
            {"{\"prompt\":\"x\",\"images\":[\"" + in + "\",\"" + in + "\"]}", "images", "invalid_value"},
            {"{\"prompt\":\"x\",\"image\":\"%%%\"}", "image", "invalid_value"},
            {"{\"prompt\":\"x\",\"image\":\"" + Base64.getEncoder().encodeToString("GIF89a....".getBytes())
                    + "\"}", "image", "unsupported_format"},
            {"{\"prompt\":\"x\",\"image\":\"" + in.substring(0, 60) + "\"}", "image", "undecodable"},
            {"{\"prompt\":\"x\",\"image\":\"" + png(200, 150, 1) + "\"}", "image", "too_large"},
            {"{\"prompt\":\"x\",\"image\":\"" + in + "\",\"mask\":\"" + in + "\"}", "mask", "unknown_parameter"},
        };
        for (String[] c : cases) {
            given().contentType(ContentType.JSON).body(c[0]).post("/edit").then().statusCode(400)
                    .body("error.param", equalTo(c[1])).body("error.code", equalTo(c[2]));
        }
        given().contentType(ContentType.JSON).body("{\"prompt\":\"x\",\"image\":\"data:image/png;base64," + in
                + "\",\"num_inference_steps\":1}").post("/edit").then().statusCode(200);
    }

    @Test
    void openAiEditsTakesMultipartImages() throws IOException {
        byte[] in = Base64.getDecoder().decode(png(80, 40, 1));
        JsonPath r = given().multiPart("image", "in.png", in, "image/png").multiPart("prompt", "make it blue")
                .multiPart("seed", "5").multiPart("num_inference_steps", "3").multiPart("size", "48x32")
                .post("/v1/images/edits").then().statusCode(200).extract().jsonPath();
        assertEquals("48x32", r.getString("size"));
        String viaEdit = edit(body("make it blue", png(80, 40, 1), ",\"size\":\"48x32\""))
                .getString("data[0].b64_json");
        assertEquals(viaEdit, r.getString("data[0].b64_json"), "one code path: edit and /v1/images/edits agree");

        var client = com.openai.client.okhttp.OpenAIOkHttpClient.builder()
                .baseUrl("http://localhost:" + io.restassured.RestAssured.port + "/v1").apiKey("any").maxRetries(0)
                .build();
        Path file = java.nio.file.Files.createTempFile("edit-in", ".png");
        java.nio.file.Files.write(file, in);
        var sdk = client.images().edit(com.openai.models.images.ImageEditParams.builder()
                .image(file).prompt("make it blue")
                .putAdditionalBodyProperty("seed", com.openai.core.JsonValue.from(5))
                .putAdditionalBodyProperty("num_inference_steps", com.openai.core.JsonValue.from(3))
                .size(com.openai.models.images.ImageEditParams.Size.of("48x32")).build());
        assertEquals(viaEdit, sdk.data().orElseThrow().get(0).b64Json().orElseThrow(), "the OpenAI SDK's edit");
        try (var events = client.images().editStreaming(com.openai.models.images.ImageEditParams.builder()
                .image(file).prompt("make it blue").partialImages(1)
                .putAdditionalBodyProperty("seed", com.openai.core.JsonValue.from(5))
                .putAdditionalBodyProperty("num_inference_steps", com.openai.core.JsonValue.from(3))
                .size(com.openai.models.images.ImageEditParams.Size.of("48x32")).build())) {
            List<com.openai.models.images.ImageEditStreamEvent> all = events.stream().toList();
            assertTrue(all.get(0).isPartialImage(), "a preview first");
            assertEquals(viaEdit, all.get(all.size() - 1).completed().orElseThrow().b64Json(),
                    "the streamed edit ends with the same image");
        }
    }

    @Test
    void openAiEditsRefusesWhatItCannotHonour() throws IOException {
        byte[] in = Base64.getDecoder().decode(png(40, 40, 1));
        given().multiPart("image", "in.png", in, "image/png").multiPart("mask", "m.png", in, "image/png")
                .multiPart("prompt", "x").post("/v1/images/edits").then().statusCode(400)
                .body("error.param", equalTo("mask"));
        given().multiPart("prompt", "x").post("/v1/images/edits").then().statusCode(400)
                .body("error.param", equalTo("image"));
        given().multiPart("image", "in.png", in, "image/png").multiPart("prompt", "x").multiPart("n", "two")
                .post("/v1/images/edits").then().statusCode(400).body("error.param", equalTo("n"))
                .body("error.code", equalTo("invalid_type"));
        given().multiPart("image", "in.png", in, "image/png").multiPart("prompt", "x").multiPart("strength", "0.5")
                .post("/v1/images/edits").then().statusCode(400).body("error.param", equalTo("strength"))
                .body("error.code", equalTo("unknown_parameter"));
        given().multiPart("image", "a.png", in, "image/png").multiPart("image", "b.png", in, "image/png")
                .multiPart("prompt", "x").post("/v1/images/edits").then().statusCode(400)
                .body("error.param", equalTo("image"));
    }

    /** What only the pipeline finds (image sizing, prompt tokens) is still the client's 400, never a 500. */
    @Test
    void inputsThePipelineCannotServeAre400s() throws IOException {
        String thin = png(600, 2, 1);
        given().contentType(ContentType.JSON).body(body("x", thin, "")).post("/edit").then().statusCode(400)
                .body("error.param", equalTo("image")).body("error.code", equalTo("unsupported_dimensions"));
        String in = png(80, 40, 1);
        given().contentType(ContentType.JSON).body(body("put <|image_pad|> here", in, "")).post("/edit").then()
                .statusCode(400).body("error.param", equalTo("prompt"));
        given().contentType(ContentType.JSON).body(body("x", in, ",\"negative_prompt\":\"<|vision_end|>\""))
                .post("/edit").then().statusCode(400).body("error.param", equalTo("negative_prompt"));
        given().contentType(ContentType.JSON).body(body("ω".repeat(7000), in, "")).post("/edit").then()
                .statusCode(400).body("error.param", equalTo("prompt"));
        // only width given: the height follows the image (80x40 at 64²: 96x32 -> 32)
        assertEquals("64x32", edit(body("x", in, ",\"width\":64")).getString("size"));
        given().contentType(ContentType.JSON).body("{\"prompt\":\"x\"}").post("/v1/images/edits").then()
                .statusCode(415);
    }

    @Test
    void anEditModelRefusesGenerate() {
        given().contentType(ContentType.JSON).body("{\"prompt\":\"a kite\"}").post("/generate").then()
                .statusCode(400).body("error.code", equalTo("unsupported_task"));
    }
}
