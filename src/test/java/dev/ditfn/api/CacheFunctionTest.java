package dev.ditfn.api;

import dev.ditfn.testing.Pixels;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Step caches through {@code POST /generate} on the embedded tiny model (2 transformer blocks). */
@QuarkusTest
class CacheFunctionTest {
    private static final String BASE = "\"prompt\":\"a quiet harbour at dawn\",\"size\":\"32x32\",\"seed\":9";

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    static JsonPath generate(String fields) {
        return given().contentType(ContentType.JSON).body("{" + BASE + "," + fields + "}").post("/generate").then()
                .statusCode(200).extract().jsonPath();
    }

    static byte[] pixels(JsonPath r) {
        return Base64.getDecoder().decode(r.getString("data[0].b64_json"));
    }

    @Test
    void noneIsTheUncachedPathAndEverySegmentedNoReuseRunMatchesIt() {
        JsonPath plain = generate("\"num_inference_steps\":6");
        JsonPath none = generate("\"num_inference_steps\":6,\"cache\":{\"backend\":\"none\"}");
        assertEquals("none", none.getString("cache.backend"));
        assertEquals(List.of(0, 1, 2, 3, 4, 5), none.getList("cache.branches.cond.computed_steps"));
        assertEquals(1.0, none.getDouble("cache.blocks_computed_fraction"));
        assertArrayEquals(pixels(plain), pixels(none));
        // Computing every step through the cache backends' segment chains gives the same image: exactly between the
        // two (branch at a time, the same segments), within a level of rounding against none (both branches batched).
        JsonPath db = generate("\"num_inference_steps\":6,\"cache\":{\"backend\":\"cache_dit\","
                + "\"residual_diff_threshold\":0}");
        JsonPath tea = generate("\"num_inference_steps\":6,\"cache\":{\"backend\":\"tea_cache\",\"rel_l1_thresh\":0}");
        assertEquals(List.of(), db.getList("cache.branches.cond.cached_steps"));
        assertEquals(List.of(), tea.getList("cache.branches.cond.cached_steps"));
        assertEquals(1.0, db.getDouble("cache.blocks_computed_fraction"));
        assertEquals(1.0, tea.getDouble("cache.blocks_computed_fraction"));
        assertTrue(java.util.Arrays.equals(Pixels.rgb(pixels(db)), Pixels.rgb(pixels(tea))),
                "cache_dit == tea_cache computing every step");
        assertTrue(Pixels.maxChannelDifference(pixels(none), pixels(db)) <= 1,
                "cache_dit computing every step == none");
    }

    @Test
    void aStaticScmMaskIsFollowedExactly() {
        JsonPath r = generate("\"num_inference_steps\":8,\"cache\":{\"backend\":\"cache_dit\","
                + "\"scm_steps_mask_policy\":\"custom\",\"scm_steps_mask\":[1,1,0,1,0,0,1,1],"
                + "\"scm_steps_policy\":\"static\",\"max_warmup_steps\":2}");
        assertEquals(List.of(0, 1, 3, 6, 7), r.getList("cache.branches.cond.computed_steps"));
        assertEquals(List.of(2, 4, 5), r.getList("cache.branches.cond.cached_steps"));
        // 3 cached calls ran Fn=1 of the embedded model's 6 blocks: (5*6 + 3*1) / (8*6)
        assertEquals(33.0 / 48, r.getDouble("cache.blocks_computed_fraction"), 1e-9);
        assertEquals("custom", r.getString("cache.config.scm_steps_mask_policy"));
    }

    /** A profile's SCM preset (no mask for 5 or 7 steps) belongs to cache_dit: it cannot refuse tea_cache. */
    @ParameterizedTest
    @CsvSource({"5", "7"})
    void settingsOfTheBackendNotRunningDoNotRefuseTheStepCount(int steps) {
        String scm = "\"scm_steps_mask_policy\":\"fast\"";
        JsonPath tea = generate("\"num_inference_steps\":" + steps + ",\"cache\":{\"backend\":\"tea_cache\"," + scm
                + "}");
        assertEquals("tea_cache", tea.getString("cache.backend"));
        assertEquals(steps, tea.getList("cache.branches.cond.computed_steps").size()
                + tea.getList("cache.branches.cond.cached_steps").size());
        given().contentType(ContentType.JSON).body("{" + BASE + ",\"num_inference_steps\":" + steps
                + ",\"cache\":{\"backend\":\"cache_dit\"," + scm + "}}").post("/generate").then().statusCode(400)
                .body("error.param", equalTo("cache.scm_steps_mask_policy"))
                .body("error.message", containsString("total_steps=" + steps));
    }

    @Test
    void guidanceBranchesKeepSeparateStateAndTheTraceSaysWhy() {
        JsonPath r = generate("\"num_inference_steps\":10,\"negative_prompt\":\"fog\",\"true_cfg_scale\":4,"
                + "\"cache\":{\"backend\":\"tea_cache\",\"rel_l1_thresh\":0.6,\"trace\":true}");
        List<Map<String, Object>> trace = r.getList("cache.trace");
        assertEquals(20, trace.size(), "one record per step and branch");
        Map<String, Object> first = trace.get(0);
        assertEquals(0, first.get("step"));
        assertEquals("cond", first.get("branch"));
        assertEquals("compute", first.get("decision"));
        assertEquals("first", first.get("reason"));
        assertNotNull(first.get("sigma"));
        // Shared state would give uncond's step 0 a previous input (cond's) and an accumulated distance.
        Map<String, Object> uncond0 = trace.get(1);
        assertEquals("uncond", uncond0.get("branch"));
        assertEquals("first", uncond0.get("reason"));
        for (Map<String, Object> t : trace.subList(2, trace.size())) {
            assertNotNull(t.get("diff"), "TeaCache reports its accumulated distance at every later call: " + t);
        }
        List<Integer> condAll = new ArrayList<>(r.getList("cache.branches.cond.computed_steps"));
        condAll.addAll(r.getList("cache.branches.cond.cached_steps"));
        assertEquals(10, condAll.size());
        assertFalse(r.getList("cache.branches.uncond.computed_steps").isEmpty());
    }

    @Test
    void withoutCfgThereIsOnlyTheCondBranch() {
        // scale 1: no guidance, whatever the model's default negative prompt
        JsonPath r = generate("\"num_inference_steps\":4,\"true_cfg_scale\":1,\"cache\":{\"backend\":\"cache_dit\"}");
        assertEquals(List.of("cond"), new ArrayList<>(r.getMap("cache.branches").keySet()));
        assertEquals(List.of(0, 1, 2, 3), r.getList("cache.branches.cond.computed_steps"), "warmup 4");
        assertNull(r.get("cache.trace"), "trace only on request");
    }

    @Test
    void concurrentRequestsWithDifferentSettingsDoNotShareState() throws Exception {
        String tea = "\"num_inference_steps\":12,\"cache\":{\"backend\":\"tea_cache\",\"rel_l1_thresh\":0.5}";
        String db = "\"num_inference_steps\":12,\"negative_prompt\":\"fog\",\"cache\":{\"backend\":\"cache_dit\","
                + "\"residual_diff_threshold\":0.5,\"max_warmup_steps\":2}";
        JsonPath teaAlone = generate(tea);
        JsonPath dbAlone = generate(db);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<JsonPath>> jobs = List.of(() -> generate(tea), () -> generate(db), () -> generate(tea),
                    () -> generate(db));
            List<Future<JsonPath>> results = pool.invokeAll(jobs);
            for (int i = 0; i < results.size(); i++) {
                JsonPath alone = i % 2 == 0 ? teaAlone : dbAlone;
                JsonPath together = results.get(i).get();
                assertArrayEquals(pixels(alone), pixels(together), "request " + i);
                assertEquals(alone.getMap("cache.branches"), together.getMap("cache.branches"), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"backend\":\"magic\"}|cache.backend|backend must be one of",
        "{\"Fn_compute_blocks\":0}|cache.Fn_compute_blocks|Fn_compute_blocks",
        "{\"Fn_compute_blocks\":6,\"Bn_compute_blocks\":1}|cache.Fn_compute_blocks|Bn_compute_blocks",
        "{\"taylorseer_order\":3}|cache.taylorseer_order|taylorseer_order",
        "{\"residual_diff_threshold\":-1}|cache.residual_diff_threshold|residual_diff_threshold",
        "{\"rel_l1_thresh\":-0.1}|cache.rel_l1_thresh|rel_l1_thresh",
        "{\"scm_steps_mask_policy\":\"weird\"}|cache.scm_steps_mask_policy|scm_steps_mask_policy",
        "{\"warp_speed\":true}|cache.warp_speed|not a cache setting",
        "{\"coefficients\":[1,2]}|cache.coefficients|exactly 5",
        "{\"trace\":\"yes\"}|cache.trace|true or false",
    })
    void impossibleCacheSettingsAre400(String cache, String field, String message) {
        given().contentType(ContentType.JSON).body("{" + BASE + ",\"num_inference_steps\":4,\"cache\":" + cache + "}")
                .post("/generate").then().statusCode(400).body("error.param", equalTo(field))
                .body("error.message", containsString(message));
    }
}
