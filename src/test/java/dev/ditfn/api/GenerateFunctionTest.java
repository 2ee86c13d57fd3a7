package dev.ditfn.api;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /generate} on the embedded tiny Qwen-Image model, through real HTTP. */
@QuarkusTest
class GenerateFunctionTest {

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static JsonPath generate(String json) {
        return given().contentType(ContentType.JSON).body(json).post("/generate").then().statusCode(200)
                .contentType(ContentType.JSON).extract().jsonPath();
    }

    private static byte[] image(JsonPath r, int index) {
        return Base64.getDecoder().decode(r.getString("data[" + index + "].b64_json"));
    }

    private static int[] pixels(byte[] encoded) {
        try {
            BufferedImage img = decode(encoded);
            return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static BufferedImage decode(byte[] bytes) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void validRequestGivesAnImageOfTheRequestedSize() throws IOException {
        JsonPath r = generate("{\"prompt\":\"a red fox in the snow\",\"width\":64,\"height\":48,"
                + "\"num_inference_steps\":3,\"seed\":11}");
        BufferedImage img = decode(image(r, 0));
        assertEquals(64, img.getWidth());
        assertEquals(48, img.getHeight());
        assertEquals("64x48", r.getString("size"));
        assertEquals("png", r.getString("output_format"));
        assertEquals(11L, r.getLong("data[0].seed"));
        assertEquals(3, r.getInt("parameters.num_inference_steps"));
        assertTrue(r.getBoolean("parameters.cfg"), "the embedded model's defaults: true CFG 4 with the negative prompt \" \"");
        for (String stage : List.of("text_encode", "denoise", "denoise_blocks", "decode", "total")) {
            assertTrue(r.getDouble("timings_ms." + stage) > 0, stage + " timing in " + r.prettify());
        }
        assertTrue(r.getDouble("timings_ms.denoise_blocks") < r.getDouble("timings_ms.denoise"),
                "the transformer blocks are part of denoise: " + r.prettify());
        assertTrue(new String(image(r, 0), java.nio.charset.StandardCharsets.ISO_8859_1).contains("a red fox in the snow"),
                "the parameters are in the PNG metadata");
        int[] rgb = img.getRGB(0, 0, 64, 48, null, 0, 64);
        assertTrue(java.util.Arrays.stream(rgb).distinct().count() > 10, "a real image, not a flat colour");
    }

    /** One step goes from sigma 1 to 0 in one Euler step: an image, not NaN latents decoded to black. */
    @Test
    void oneStepGivesAnImage() {
        JsonPath r = generate("{\"prompt\":\"a red fox in the snow\",\"size\":\"32x32\",\"num_inference_steps\":1,"
                + "\"seed\":11}");
        assertEquals(1, r.getInt("parameters.num_inference_steps"));
        assertTrue(java.util.Arrays.stream(pixels(image(r, 0))).distinct().count() > 10,
                "a real image, not a flat colour");
    }

    @Test
    void sameSeedSameBytesDifferentSeedDifferentImage() {
        String base = "{\"prompt\":\"a lighthouse\",\"size\":\"32x32\",\"num_inference_steps\":2,\"seed\":";
        byte[] a = image(generate(base + "5}"), 0);
        byte[] b = image(generate(base + "5}"), 0);
        byte[] c = image(generate(base + "6}"), 0);
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
    }

    @Test
    void trueCfgChangesTheImageAndIsReported() {
        String base = "{\"prompt\":\"a lighthouse\",\"size\":\"32x32\",\"num_inference_steps\":2,\"seed\":3";
        JsonPath off = generate(base + ",\"true_cfg_scale\":0}");
        JsonPath on = generate(base + ",\"negative_prompt\":\"blurry\",\"true_cfg_scale\":4.0}");
        JsonPath modelDefault = generate(base + "}");
        assertTrue(on.getBoolean("parameters.cfg"));
        assertFalse(off.getBoolean("parameters.cfg"));
        assertTrue(modelDefault.getBoolean("parameters.cfg"), "the embedded model's own default");
        assertFalse(java.util.Arrays.equals(pixels(image(off, 0)), pixels(image(on, 0))));
        assertFalse(java.util.Arrays.equals(pixels(image(on, 0)), pixels(image(modelDefault, 0))));
        JsonPath scaleOne = generate(base + ",\"negative_prompt\":\"blurry\",\"true_cfg_scale\":1.0}");
        assertFalse(scaleOne.getBoolean("parameters.cfg"), "scale 1 means no CFG");
        assertArrayEquals(pixels(image(off, 0)), pixels(image(scaleOne, 0)), "same pixels (metadata differs)");
    }

    @Test
    void severalImagesUseConsecutiveSeedsAndJpegWorks() throws IOException {
        JsonPath r = generate("{\"prompt\":\"two cats\",\"size\":\"32x16\",\"num_inference_steps\":2,\"seed\":40,"
                + "\"n\":2,\"output_format\":\"jpeg\"}");
        assertEquals(2, r.getList("data").size());
        assertEquals(40L, r.getLong("data[0].seed"));
        assertEquals(41L, r.getLong("data[1].seed"));
        byte[] jpeg = image(r, 1);
        assertEquals((byte) 0xFF, jpeg[0]);
        assertEquals((byte) 0xD8, jpeg[1]);
        assertEquals(32, decode(jpeg).getWidth());
        byte[] alone = image(generate("{\"prompt\":\"two cats\",\"size\":\"32x16\",\"num_inference_steps\":2,"
                + "\"seed\":41,\"output_format\":\"jpeg\"}"), 0);
        assertArrayEquals(alone, jpeg, "image i of a batch equals a single run with seed + i");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"prompt\":\"\"}|prompt|non-empty",
        "{\"width\":64}|prompt|non-empty",
        "{\"prompt\":\"x\",\"width\":50,\"height\":64}|width|multiple of 16",
        "{\"prompt\":\"x\",\"width\":0,\"height\":64}|width|between",
        "{\"prompt\":\"x\",\"width\":64,\"height\":99999}|height|between",
        "{\"prompt\":\"x\",\"size\":\"big\"}|size|1024x768",
        "{\"prompt\":\"x\",\"size\":\"64x64\",\"width\":64}|size|not both",
        "{\"prompt\":\"x\",\"num_inference_steps\":0}|num_inference_steps|between 1 and",
        "{\"prompt\":\"x\",\"num_inference_steps\":100000}|num_inference_steps|between 1 and",
        "{\"prompt\":\"x\",\"n\":0}|n|between 1 and",
        "{\"prompt\":\"x\",\"n\":500}|n|between 1 and",
        "{\"prompt\":\"x\",\"true_cfg_scale\":-1}|true_cfg_scale|between 0 and 100",
        "{\"prompt\":\"x\",\"output_format\":\"gif\"}|output_format|png or jpeg",
        "{\"prompt\":\"x\",\"seed\":-5}|seed|non-negative",
    })
    void badInputIs400NamingTheField(String body, String field, String message) {
        given().contentType(ContentType.JSON).body(body).post("/generate").then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("error.param", equalTo(field))
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", containsString(message));
    }

    @Test
    void malformedJsonIs400() {
        given().contentType(ContentType.JSON).body("{\"prompt\": ").post("/generate").then().statusCode(400)
                .body("error.code", equalTo("invalid_json"));
        given().contentType(ContentType.JSON).body("{\"prompt\":\"x\",\"width\":\"wide\"}").post("/generate").then()
                .statusCode(400).body("error.code", equalTo("invalid_type")).body("error.param", equalTo("width"));
    }
}
