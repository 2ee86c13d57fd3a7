package dev.ditfn.api.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.images.ImageGenStreamEvent;
import com.openai.models.images.ImageGenerateParams;
import com.openai.models.images.ImagesResponse;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI-compatible endpoints on the embedded tiny model, with the official OpenAI Java SDK as the client where
 * it can express the request, and REST Assured for the rest.
 */
@QuarkusTest
class OpenAiImagesTest {
    private static final String GENERATIONS = "/v1/images/generations";

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static OpenAIClient client() {
        return OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + RestAssured.port + "/v1")
                .apiKey("any").maxRetries(0).build();
    }

    private static ImageGenerateParams.Builder params(String size, int steps) {
        return ImageGenerateParams.builder().prompt("a red fox in the snow").size(size)
                .putAdditionalBodyProperty("num_inference_steps", JsonValue.from(steps))
                .putAdditionalBodyProperty("seed", JsonValue.from(7));
    }

    private static BufferedImage decode(String b64) {
        try {
            return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(b64)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonPath post(String json, int status) {
        return given().contentType(ContentType.JSON).body(json).post(GENERATIONS).then().statusCode(status)
                .contentType(ContentType.JSON).extract().jsonPath();
    }

    @Test
    void sdkGeneratesPngOfTheRequestedSize() {
        ImagesResponse r = client().images().generate(params("64x48", 3)
                .outputFormat(ImageGenerateParams.OutputFormat.PNG).quality(ImageGenerateParams.Quality.LOW).build());
        assertEquals(1, r.data().orElseThrow().size());
        BufferedImage img = decode(r.data().orElseThrow().get(0).b64Json().orElseThrow());
        assertEquals(64, img.getWidth());
        assertEquals(48, img.getHeight());
        assertEquals("png", r.outputFormat().orElseThrow().asString());
        assertEquals("64x48", r.size().orElseThrow().asString());
        assertEquals("low", r.quality().orElseThrow().asString());
        assertTrue(r.created() > 1_700_000_000L, "created is in seconds since the epoch: " + r.created());
        assertTrue(r._additionalProperties().containsKey("timings_ms"), r._additionalProperties().toString());
    }

    /** One code path: the same request through both front doors gives the same bytes. */
    @Test
    void sameImageAsGenerate() {
        String b64 = client().images().generate(params("32x32", 2).build()).data().orElseThrow().get(0).b64Json()
                .orElseThrow();
        String viaGenerate = given().contentType(ContentType.JSON).body("{\"prompt\":\"a red fox in the snow\","
                + "\"size\":\"32x32\",\"num_inference_steps\":2,\"seed\":7}").post("/generate").then().statusCode(200)
                .extract().jsonPath().getString("data[0].b64_json");
        assertArrayEquals(Base64.getDecoder().decode(viaGenerate), Base64.getDecoder().decode(b64));
    }

    @Test
    void sdkStreamsPartialImagesThenCompleted() {
        List<ImageGenStreamEvent> events = new ArrayList<>();
        try (StreamResponse<ImageGenStreamEvent> stream = client().images().generateStreaming(params("32x32", 6)
                .partialImages(2).build())) {
            stream.stream().forEach(events::add);
        }
        List<ImageGenStreamEvent> images = events.stream().filter(e -> e.isGenerationPartialImage() || e.isGenerationCompleted())
                .toList();
        assertEquals(3, images.size(), events.toString());
        for (int i = 0; i < 2; i++) {
            var partial = images.get(i).asGenerationPartialImage();
            assertEquals(i, partial.partialImageIndex());
            BufferedImage img = decode(partial.b64Json());
            assertEquals(32, img.getWidth());
        }
        var completed = images.get(2).asGenerationCompleted();
        assertEquals(32, decode(completed.b64Json()).getHeight());
        assertFalse(completed.b64Json().equals(images.get(1).asGenerationPartialImage().b64Json()),
                "a preview is the predicted clean image at an earlier step, not the final one");
        String same = client().images().generate(params("32x32", 6).build()).data().orElseThrow().get(0).b64Json()
                .orElseThrow();
        assertEquals(same, completed.b64Json(), "streaming changes nothing in the final image");
    }

    /**
     * The raw stream: previews at evenly spaced steps, a progress event per step (with each branch's cache decision),
     * then the completed image.
     */
    @Test
    void streamHasProgressPerStepAndPreviewsAtEvenSteps() {
        String body = given().contentType(ContentType.JSON).body("{\"prompt\":\"fox\",\"size\":\"32x32\","
                + "\"num_inference_steps\":8,\"seed\":3,\"stream\":true,\"partial_images\":3,"
                + "\"cache\":{\"backend\":\"tea_cache\",\"rel_l1_thresh\":1.0}}").post(GENERATIONS)
                .then().statusCode(200).contentType(containsString("text/event-stream")).extract().asString();
        List<String> names = new ArrayList<>();
        List<JsonPath> data = new ArrayList<>();
        for (String frame : body.split("\n\n")) {
            String[] lines = frame.split("\n");
            names.add(lines[0].substring("event: ".length()));
            data.add(JsonPath.from(lines[1].substring("data: ".length())));
        }
        List<String> expected = new ArrayList<>();
        for (int step = 1; step <= 8; step++) {
            if (step == 2 || step == 4 || step == 6) {
                expected.add(ImageEventStream.PARTIAL);
            }
            expected.add(ImageEventStream.PROGRESS);
        }
        expected.add(ImageEventStream.COMPLETED);
        assertEquals(expected, names);
        assertEquals(8, data.get(names.lastIndexOf(ImageEventStream.PROGRESS)).getInt("total"));
        assertEquals(List.of(2, 4, 6), data.stream().filter(d -> d.getString("type").equals(ImageEventStream.PARTIAL))
                .map(d -> d.getInt("step")).toList());
        assertEquals(3L, data.get(data.size() - 1).getLong("seed"));
        List<String> decisions = data.stream().filter(d -> d.getString("type").equals(ImageEventStream.PROGRESS))
                .map(d -> d.getString("branches.cond")).toList();
        assertEquals("computed", decisions.get(0), "the first step always computes");
        assertTrue(decisions.contains("cached"), "tea_cache 1.0 reuses some step: " + decisions);
        JsonPath completed = data.get(data.size() - 1);
        assertEquals(completed.getList("cache.branches.cond.cached_steps").size(),
                decisions.stream().filter("cached"::equals).count(), "the events agree with the cache report");
    }

    @Test
    void previewStepsAreEvenlySpacedAndFewerWhenStepsAreFew() {
        assertEquals(Set.of(25), ImageEventStream.previewSteps(50, 1));
        assertEquals(Set.of(5, 10, 15), ImageEventStream.previewSteps(20, 3));
        assertEquals(Set.of(1), ImageEventStream.previewSteps(2, 3));
        assertEquals(Set.of(), ImageEventStream.previewSteps(1, 3));
    }

    @Test
    void qualityPicksTheStepCountUnlessStepsAreGiven() {
        String low = post("{\"prompt\":\"fox\",\"size\":\"16x16\",\"quality\":\"low\",\"seed\":1}", 200)
                .getString("data[0].b64_json");
        assertTrue(metadata(low).contains("\"num_inference_steps\":20"), metadata(low));
        String given = post("{\"prompt\":\"fox\",\"size\":\"16x16\",\"quality\":\"high\",\"num_inference_steps\":2,"
                + "\"seed\":1}", 200).getString("data[0].b64_json");
        assertTrue(metadata(given).contains("\"num_inference_steps\":2,"), metadata(given));
    }

    private static String metadata(String b64) {
        return new String(Base64.getDecoder().decode(b64), StandardCharsets.ISO_8859_1);
    }

    @Test
    void outputCompressionIsJpegQuality() {
        String request = "{\"prompt\":\"fox\",\"size\":\"64x64\",\"num_inference_steps\":2,\"seed\":1,"
                + "\"output_format\":\"jpeg\",\"output_compression\":%d}";
        JsonPath small = post(request.formatted(5), 200);
        JsonPath large = post(request.formatted(100), 200);
        assertEquals("jpeg", small.getString("output_format"));
        int smallBytes = Base64.getDecoder().decode(small.getString("data[0].b64_json")).length;
        int largeBytes = Base64.getDecoder().decode(large.getString("data[0].b64_json")).length;
        assertTrue(smallBytes < largeBytes, smallBytes + " bytes at quality 5 vs " + largeBytes + " at 100");
        assertEquals(64, decode(small.getString("data[0].b64_json")).getWidth());
    }

    @Test
    void autoSizeIsTheModelsDefault() {
        JsonPath r = post("{\"prompt\":\"fox\",\"size\":\"auto\",\"num_inference_steps\":1,\"seed\":1,"
                + "\"model\":\"" + servedModel() + "\",\"user\":\"someone\",\"background\":\"opaque\","
                + "\"response_format\":\"b64_json\"}", 200);
        // no dit.generate.default-size is configured: the embedded model's _dit_fn_defaults size
        assertEquals("96x96", r.getString("size"));
        assertEquals(96, decode(r.getString("data[0].b64_json")).getWidth());
        assertEquals("auto", r.getString("quality"));
    }

    @Test
    void unknownParametersAreNamed() {
        JsonPath r = post("{\"prompt\":\"fox\",\"style\":\"vivid\",\"num_steps\":3}", 400);
        assertEquals("unknown_parameter", r.getString("error.code"));
        assertEquals("invalid_request_error", r.getString("error.type"));
        assertEquals("style", r.getString("error.param"));
        assertTrue(r.getString("error.message").contains("style, num_steps"), r.getString("error.message"));
    }

    @Test
    void sdkSeesUnknownParameterAsBadRequest() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client().images().generate(
                params("32x32", 1).putAdditionalBodyProperty("steps", JsonValue.from(3)).build()));
        assertEquals("unknown_parameter", e.code().orElseThrow());
        assertEquals("steps", e.param().orElseThrow());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"response_format\":\"url\"   | response_format    | unsupported_value | stores no files",
            "\"output_format\":\"webp\"    | output_format      | unsupported_value | webp is not supported",
            "\"background\":\"transparent\" | background        | unsupported_value | opaque RGB",
            "\"guidance_scale\":3.5        | guidance_scale     | unsupported_parameter | true_cfg_scale",
            "\"partial_images\":2          | partial_images     | invalid_value     | needs stream",
            "\"partial_images\":4,\"stream\":true | partial_images | invalid_value  | between 0 and 3",
            "\"stream\":true,\"n\":2       | n                  | invalid_value     | one image",
            "\"quality\":\"ultra\"         | quality            | invalid_value     | low, medium, high",
            "\"output_compression\":50     | output_compression | invalid_value     | jpeg only",
            "\"n\":\"2\"                   | n                  | invalid_type      | wrong type",
            "\"num_inference_steps\":2.5   | num_inference_steps | invalid_type     | wrong type",
    })
    void refusalsNameTheParameter(String field, String param, String code, String message) {
        JsonPath r = post("{\"prompt\":\"fox\"," + field + "}", 400);
        assertEquals(param, r.getString("error.param"), r.prettify());
        assertEquals(code, r.getString("error.code"), r.prettify());
        assertTrue(r.getString("error.message").contains(message), r.getString("error.message"));
    }

    /** What the shared validation refuses comes in OpenAI's shape too, with the same code as on /generate. */
    @Test
    void sharedValidationErrorsInOpenAiShape() {
        given().contentType(ContentType.JSON).body("{\"prompt\":\"fox\",\"size\":\"30x30\"}").post(GENERATIONS)
                .then().statusCode(400).body("error.param", equalTo("size"))
                .body("error.type", equalTo("invalid_request_error")).body("error.code", equalTo("invalid_value"))
                .body("error.message", containsString("multiple of 16"));
    }

    @Test
    void malformedJsonIsABadRequest() {
        JsonPath r = post("{\"prompt\": \"fox\",", 400);
        assertEquals("invalid_json", r.getString("error.code"));
        assertTrue(r.getString("error.message").startsWith("the body is not valid JSON"), r.prettify());
        assertEquals("invalid_json", post("[1, 2]", 400).getString("error.code"));
    }

    @Test
    void anotherModelIsNotFound() {
        JsonPath r = post("{\"prompt\":\"fox\",\"model\":\"gpt-image-1\"}", 404);
        assertEquals("model_not_found", r.getString("error.code"));
        assertEquals("model", r.getString("error.param"));
    }

    private static String servedModel() {
        return given().get("/v1/models").then().statusCode(200).extract().jsonPath().getString("data[0].id");
    }

    @Test
    void modelsListsTheServedModelWithoutPaths() {
        String body = given().get("/v1/models").then().statusCode(200).contentType(ContentType.JSON).extract()
                .asString();
        JsonPath r = JsonPath.from(body);
        assertEquals("list", r.getString("object"));
        assertEquals(1, r.getList("data").size());
        String id = given().get("/q/health/ready").then().extract().jsonPath().getString("checks[0].data.model");
        assertEquals(id, r.getString("data[0].id"));
        assertEquals("model", r.getString("data[0].object"));
        assertEquals("dit-fn", r.getString("data[0].owned_by"));
        assertTrue(r.getLong("data[0].created") > 1_700_000_000L, body);
        assertEquals("cpu", r.getString("data[0].dit.device"));
        assertEquals("none", r.getString("data[0].dit.cache.backend"));
        assertEquals("QwenImagePipeline", r.getString("data[0].dit.pipeline"));
        // the embedded model's own defaults (_dit_fn_defaults), as a request without those fields gets them
        assertEquals("96x96", r.getString("data[0].dit.default_size"));
        assertEquals(20, r.getInt("data[0].dit.default_steps"));
        assertEquals(2.0, r.getDouble("data[0].dit.default_guidance"), 0);
        assertFalse(body.contains("/"), "no file paths: " + body);
        assertEquals(id, client().models().retrieve(id).id());
        assertEquals(id, client().models().list().data().get(0).id());
        given().get("/v1/models/other").then().statusCode(404).body("error.code", equalTo("model_not_found"));
    }
}
