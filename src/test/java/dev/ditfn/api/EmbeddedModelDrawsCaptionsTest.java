package dev.ditfn.api;

import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.scenes.FidelityResult;
import dev.ditfn.scenes.ObjectFidelity;
import dev.ditfn.scenes.Scene;
import dev.ditfn.scenes.SceneCaption;
import dev.ditfn.scenes.SceneColour;
import dev.ditfn.scenes.SceneFidelity;
import dev.ditfn.scenes.SceneObject;
import dev.ditfn.scenes.SceneSplit;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.util.EnumMap;
import java.util.Map;
import java.util.Base64;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded model is trained on rendered scenes: asked, over HTTP and with nothing but a prompt and a seed, for
 * captions it never saw in training, it paints the caption's background and each object in the caption's colour,
 * shape, size and cell, and nothing in the other cells. The checks read the pixels, so a numerical regression
 * anywhere in the text encoder, transformer, scheduler or VAE fails here. The model passes every check on 97% of
 * held-out captions (README, "The embedded model"); these four are among them.
 */
@QuarkusTest
class EmbeddedModelDrawsCaptionsTest {
    /** Pixels of an object's colour the picture must hold: a quarter of a small shape at 96x96. */
    private static final int MIN_OBJECT_PIXELS = 40;

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    @ParameterizedTest
    @ValueSource(strings = {"an orange background with a black cross at the top right",
            "a blue background with a small black square",
            "a large purple cross at the bottom right on an orange background",
            "an orange background with a small green circle on the left and a purple circle in the center"})
    void aHeldOutCaptionIsDrawn(String caption) throws Exception {
        Scene scene = SceneCaption.parse(caption).orElseThrow();
        assertTrue(SceneSplit.EVAL.contains(scene), "the caption is held out of training: " + caption);
        JsonPath r = given().contentType(ContentType.JSON).body("{\"prompt\": \"" + caption + "\", \"seed\": 1, \"cache\": {\"backend\": \"none\"}}")
                .post("/generate").then().statusCode(200).extract().jsonPath();
        assertEquals("96x96", r.getString("size"), "the model's own default size");
        RgbImage image = RgbImage.of(ImageIO.read(new ByteArrayInputStream(
                Base64.getDecoder().decode(r.getString("data[0].b64_json")))));

        FidelityResult fidelity = SceneFidelity.evaluate(image, scene);
        assertTrue(fidelity.background(), caption + ": background " + scene.background() + ", " + fidelity);
        Map<SceneColour, Integer> pixels = colourCounts(image);
        for (int i = 0; i < scene.objects().size(); i++) {
            SceneObject o = scene.objects().get(i);
            assertTrue(pixels.getOrDefault(o.colour(), 0) >= MIN_OBJECT_PIXELS,
                    caption + ": " + o.colour() + " covers " + pixels.get(o.colour()) + " pixels of " + pixels);
            ObjectFidelity drawn = fidelity.objects().get(i);
            assertTrue(drawn.passed(), caption + ": " + o + " drawn as " + drawn);
        }
        assertTrue(fidelity.noExtraObjects(), caption + ": an object where the caption puts none, " + fidelity);
    }

    private static Map<SceneColour, Integer> colourCounts(RgbImage image) {
        Map<SceneColour, Integer> counts = new EnumMap<>(SceneColour.class);
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                counts.merge(SceneColour.nearest(image.get(x, y, 0), image.get(x, y, 1), image.get(x, y, 2)), 1,
                        Integer::sum);
            }
        }
        return counts;
    }
}
