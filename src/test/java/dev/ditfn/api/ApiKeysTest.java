package dev.ditfn.api;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.images.ImageGenerateParams;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.util.Map;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** With keys configured every function and /v1 request needs one; health and metrics stay open. */
@QuarkusTest
@TestProfile(ApiKeysTest.TwoKeys.class)
class ApiKeysTest {
    private static final String BODY = "{\"prompt\":\"a kite\",\"size\":\"32x32\",\"num_inference_steps\":1}";

    public static class TwoKeys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("dit.serving.api-keys", "k-one, k-two");
        }
    }

    @TestHTTPResource("/v1")
    URL v1;

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    @Test
    void everyFunctionNeedsAKey() {
        given().contentType(ContentType.JSON).body(BODY).post("/generate").then().statusCode(401)
                .header("WWW-Authenticate", "Bearer").body("error.code", equalTo("invalid_api_key"));
        given().contentType(ContentType.JSON).header("Authorization", "Bearer k-three").body(BODY).post("/generate")
                .then().statusCode(401).body("error.message", equalTo("the API key is not valid"));
        given().contentType(ContentType.JSON).header("Authorization", "Bearer k-two").body(BODY).post("/generate")
                .then().statusCode(200);
        given().get("/v1/models").then().statusCode(401);
        given().header("Authorization", "Bearer k-one").get("/v1/models").then().statusCode(200);
    }

    @Test
    void healthAndMetricsStayOpen() {
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
    }

    @Test
    void theOpenAiSdkSendsItsKey() {
        ImageGenerateParams params = ImageGenerateParams.builder().prompt("a kite").size("32x32")
                .putAdditionalBodyProperty("num_inference_steps", JsonValue.from(1)).build();
        OpenAIClient good = OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey("k-one").maxRetries(0).build();
        assertEquals(1, good.images().generate(params).data().orElseThrow().size());
        OpenAIClient bad = OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey("nope").maxRetries(0).build();
        assertThrows(com.openai.errors.UnauthorizedException.class, () -> bad.images().generate(params));
    }
}
