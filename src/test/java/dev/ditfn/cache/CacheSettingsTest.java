package dev.ditfn.cache;

import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configured defaults, per-request overrides and validation through the one parser. */
class CacheSettingsTest {

    /** Qwen-Image's TeaCache coefficients, the family default the targets below carry. */
    private static final double[] QWEN = {-450.0, 280.0, -45.0, 3.2, -0.02};

    /** A transformer of {@code blocks} blocks cut at every block, so any Fn/Bn is served. */
    private static CacheTarget target(int blocks) {
        return new CacheTarget(new SegmentPartition(blocks, IntStream.range(0, blocks).boxed().toList()), QWEN);
    }

    private static Map<String, Object> configured(Map<String, String> properties) {
        return CacheSettings.defaults(TestConfig.load(properties).cache());
    }

    @Test
    void defaultsAreVllmOmnis() {
        CacheSettings s = CacheSettings.resolve(configured(Map.of()), Map.of(), target(60), 50);
        assertEquals("none", s.backend());
        assertEquals(0.2, s.teaCache().relL1Thresh());
        assertArrayEquals(new double[] {-450.0, 280.0, -45.0, 3.2, -0.02}, s.teaCache().coefficients());
        assertEquals(1, s.dbCache().fnComputeBlocks());
        assertEquals(0, s.dbCache().bnComputeBlocks());
        assertEquals(4, s.dbCache().maxWarmupSteps());
        assertEquals(-1, s.dbCache().maxCachedSteps());
        assertEquals(3, s.dbCache().maxContinuousCachedSteps());
        assertEquals(0.24, s.dbCache().residualDiffThreshold());
        assertEquals(false, s.dbCache().enableTaylorseer());
        assertEquals(1, s.dbCache().taylorseerOrder());
    }

    @Test
    void configurationAndRequestOverridesCombine() {
        Map<String, Object> base = configured(Map.of("dit.cache.backend", "cache_dit",
                "dit.cache.Fn_compute_blocks", "8", "dit.cache.coefficients", "1,2,3,4,5"));
        CacheSettings s = CacheSettings.resolve(base, Map.of("residual_diff_threshold", 0.12,
                "enable_taylorseer", true), target(60), 50);
        assertEquals("cache_dit", s.backend());
        assertEquals(8, s.dbCache().fnComputeBlocks());
        assertEquals(0.12, s.dbCache().residualDiffThreshold());
        assertTrue(s.dbCache().enableTaylorseer());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5}, s.teaCache().coefficients());
        Map<String, Object> merged = new java.util.LinkedHashMap<>(base);
        merged.put("residual_diff_threshold", 0.12);
        Map<String, Object> effective = s.effective(merged);
        assertEquals("cache_dit", effective.get("backend"));
        assertEquals(0.12, effective.get("residual_diff_threshold"));
        assertEquals(false, effective.containsKey("rel_l1_thresh"), "only the active backend's parameters");
    }

    @Test
    void badConfiguredValuesNameTheKey() {
        CacheSettings.InvalidSettingException e = assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.checkConfigured(configured(Map.of("dit.cache.taylorseer_order", "5")), target(1000)));
        assertEquals("taylorseer_order", e.key());
        e = assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.checkConfigured(configured(Map.of("dit.cache.backend", "turbo")), target(1000)));
        assertEquals("backend", e.key());
        e = assertThrows(CacheSettings.InvalidSettingException.class, () -> CacheSettings.checkConfigured(
                configured(Map.of("dit.cache.Fn_compute_blocks", "40", "dit.cache.Bn_compute_blocks", "30")), target(60)));
        assertTrue(e.getMessage().contains("60"), e.getMessage());
    }

    @Test
    void aConfiguredCustomMaskFixesTheStepCount() {
        Map<String, Object> base = configured(Map.of("dit.cache.backend", "cache_dit",
                "dit.cache.scm_steps_mask_policy", "custom", "dit.cache.scm_steps_mask", "1,1,0,1,1"));
        CacheSettings.checkConfigured(base, target(60));
        assertEquals(List.of(1, 1, 0, 1, 1), base.get("scm_steps_mask"));
    }

    /** cache-dit's SCM presets have no mask for 5 or 7 steps: only requests that run cache_dit are refused. */
    @Test
    void theStepCountIsCheckedOnlyAgainstTheBackendThatRuns() {
        Map<String, Object> base = configured(Map.of("dit.cache.backend", "cache_dit",
                "dit.cache.scm_steps_mask_policy", "fast"));
        CacheSettings.checkConfigured(base, target(60));
        for (int steps : new int[] {5, 7}) {
            CacheSettings tea = CacheSettings.resolve(base, Map.of("backend", "tea_cache"), target(60), steps);
            assertEquals("tea_cache", tea.backend());
            assertEquals("none", CacheSettings.resolve(base, Map.of("backend", "none"), target(60), steps).backend());
            CacheSettings.InvalidSettingException e = assertThrows(CacheSettings.InvalidSettingException.class,
                    () -> CacheSettings.resolve(base, Map.of(), target(60), steps));
            assertEquals("scm_steps_mask_policy", e.key());
            assertTrue(e.getMessage().contains("total_steps=" + steps), e.getMessage());
        }
        // a custom mask fixes cache_dit's step count, not tea_cache's
        Map<String, Object> custom = configured(Map.of("dit.cache.backend", "tea_cache",
                "dit.cache.scm_steps_mask_policy", "custom", "dit.cache.scm_steps_mask", "1,1,0,1,1"));
        CacheSettings.checkConfigured(custom, target(60));
        assertEquals("tea_cache", CacheSettings.resolve(custom, Map.of(), target(60), 20).backend());
        assertEquals("scm_steps_mask", assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.resolve(custom, Map.of("backend", "cache_dit"), target(60), 20)).key());
    }

    /** Values that are wrong whatever the step count are refused for either backend, by request or configuration. */
    @Test
    void valuesWrongForEveryStepCountAreRefusedWhicheverBackendRuns() {
        Map<String, Object> tea = configured(Map.of("dit.cache.backend", "tea_cache"));
        assertEquals("taylorseer_order", assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.resolve(tea, Map.of("taylorseer_order", 3), target(60), 20)).key());
        assertEquals("scm_steps_mask", assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.checkConfigured(configured(Map.of("dit.cache.backend", "tea_cache",
                        "dit.cache.scm_steps_mask_policy", "custom")), target(60))).key());
        assertEquals("rel_l1_thresh", assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.checkConfigured(configured(Map.of("dit.cache.backend", "cache_dit",
                        "dit.cache.rel_l1_thresh", "-1")), target(60))).key());
    }

    @Test
    void wrongTypesAreRefusedByKey() {
        CacheSettings.InvalidSettingException e = assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.resolve(configured(Map.of()), Map.of("max_warmup_steps", 2.5), target(60), 50));
        assertEquals("max_warmup_steps", e.key());
        e = assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.resolve(configured(Map.of()), Map.of("enable_taylorseer", "maybe"), target(60), 50));
        assertEquals("enable_taylorseer", e.key());
    }

    @Test
    void aDbCacheSplitOffTheLoadedSegmentsIsRefusedNamingTheKey() {
        CacheTarget served = new CacheTarget(new SegmentPartition(12, List.of(1, 8)), QWEN);
        Map<String, Object> base = configured(Map.of("dit.cache.backend", "cache_dit"));
        assertEquals(8, CacheSettings.resolve(base, Map.of("Fn_compute_blocks", 8), served, 28).dbCache()
                .fnComputeBlocks());
        CacheSettings.InvalidSettingException e = assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.resolve(base, Map.of("Fn_compute_blocks", 4), served, 28));
        assertEquals("Fn_compute_blocks", e.key());
        assertTrue(e.getMessage().contains("[0, 1, 8, 12]"), e.getMessage());
        e = assertThrows(CacheSettings.InvalidSettingException.class,
                () -> CacheSettings.resolve(base, Map.of("Bn_compute_blocks", 2), served, 28));
        assertEquals("Bn_compute_blocks", e.key());
        // tea_cache and none need no cut: any partition serves them
        assertEquals("tea_cache", CacheSettings.resolve(base, Map.of("backend", "tea_cache", "Fn_compute_blocks", 4),
                served, 28).backend());
    }

    @Test
    void unsetCoefficientsAreTheModelFamilysAndAreReported() {
        double[] other = {1, 2, 3, 4, 5};
        CacheTarget family = new CacheTarget(new SegmentPartition(4, List.of(1)), other);
        Map<String, Object> base = configured(Map.of("dit.cache.backend", "tea_cache"));
        CacheSettings s = CacheSettings.resolve(base, Map.of(), family, 10);
        assertArrayEquals(other, s.teaCache().coefficients());
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0, 5.0), s.effective(base).get("coefficients"));
    }
}
