package dev.ditfn.api;

import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** {@code POST /edit} on a generated Edit Plus (2511, zero_cond_t) snapshot: one to three input images. */
@QuarkusTest
@TestProfile(EditPlusServingTest.EditPlusModel.class)
class EditPlusServingTest {

    public static class EditPlusModel implements QuarkusTestProfile {
        static final Path DIR = Path.of("target", "test-models", "edit-plus-tiny");

        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageSnapshot.write(DIR, QwenImageSnapshot.EDIT_PLUS_TINY, DType.FLOAT32, 8);
            return Map.of("dit.model.path", DIR.toAbsolutePath().toString(), "dit.edit.vae-image-area", "4096",
                    "dit.edit.condition-image-area", "2304", "dit.edit.default-area", "4096");
        }
    }

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static String images(String... base64) {
        return "{\"prompt\":\"put the first on the second\",\"seed\":2,\"num_inference_steps\":2,\"images\":[\""
                + String.join("\",\"", base64) + "\"]}";
    }

    @Test
    void oneToThreeImagesAndNoMore() throws IOException {
        String a = EditServingTest.png(40, 40, 1);
        String b = EditServingTest.png(64, 32, 2);
        String c = EditServingTest.png(32, 96, 3);
        String one = given().contentType(ContentType.JSON).body(images(a)).post("/edit").then().statusCode(200)
                .body("size", equalTo("64x64")).extract().jsonPath().getString("data[0].b64_json");
        // the last image sets the default size: 1:3 at 64² area -> sqrt(4096/3) = 37 -> 32 wide, 111 -> 96 high
        String three = given().contentType(ContentType.JSON).body(images(a, b, c)).post("/edit").then()
                .statusCode(200).body("size", equalTo("32x96")).extract().jsonPath().getString("data[0].b64_json");
        assertNotEquals(one, three);
        given().contentType(ContentType.JSON).body(images(a, b, c, a)).post("/edit").then().statusCode(400)
                .body("error.param", equalTo("images"));
    }
}
