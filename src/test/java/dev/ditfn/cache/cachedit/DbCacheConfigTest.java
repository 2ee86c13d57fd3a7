package dev.ditfn.cache.cachedit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DbCacheConfigTest {

    private static String invalid(DbCacheConfig c, int blocks, int steps) {
        return assertThrows(IllegalArgumentException.class, () -> c.validate(blocks, steps)).getMessage();
    }

    private static void assertStartsWith(String prefix, String actual) {
        assertTrue(actual.startsWith(prefix), "expected \"" + prefix + "...\" but got \"" + actual + "\"");
    }

    @Test
    void defaultsAreVllmOmnis() {
        DbCacheConfig d = DbCacheConfig.defaults();
        assertEquals(1, d.fnComputeBlocks());
        assertEquals(0, d.bnComputeBlocks());
        assertEquals(4, d.maxWarmupSteps());
        assertEquals(1, d.warmupInterval());
        assertEquals(-1, d.maxCachedSteps());
        assertEquals(3, d.maxContinuousCachedSteps());
        assertEquals(0.24, d.residualDiffThreshold());
        assertNull(d.maxAccumulatedResidualDiffThreshold());
        assertFalse(d.enableTaylorseer());
        assertEquals(1, d.taylorseerOrder());
        assertNull(d.scmStepsMaskPolicy());
        assertEquals("dynamic", d.scmStepsPolicy());
        assertNull(d.scmStepsMask());
        assertFalse(d.cleanContinuousCounter());
        assertFalse(d.scmEnabled());
        assertNull(d.stepsMask(28));
        assertEquals(d, DbCacheConfig.builder().build());
        assertDoesNotThrow(() -> d.validate(60, 50));
        assertDoesNotThrow(() -> d.validate(30, 8));
    }

    @Test
    void describeGivesTheBenchmarkName() {
        assertEquals("F1B0_W4I1M-1MC3_R0.24_T0O1", DbCacheConfig.defaults().describe());
        assertEquals("F8B0_W8I1M-1MC-1_R0.08_T1O2", DbCacheConfig.builder().fnComputeBlocks(8).maxWarmupSteps(8)
                .maxContinuousCachedSteps(-1).residualDiffThreshold(0.08).enableTaylorseer(true).taylorseerOrder(2)
                .build().describe());
        assertEquals("F1B0_W8I1M-1MC3_R0.24_T1O1", DbCacheConfig.builder().maxWarmupSteps(8).enableTaylorseer(true)
                .build().describe());
        assertEquals("F4B2_W2I2M10MC0_R1.0_T0O1", DbCacheConfig.builder().fnComputeBlocks(4).bnComputeBlocks(2)
                .maxWarmupSteps(2).warmupInterval(2).maxCachedSteps(10).maxContinuousCachedSteps(0)
                .residualDiffThreshold(1).build().describe());
        assertEquals("F1B0_W4I1M-1MC3_R0.1_T0O1_SCM-fast-static", DbCacheConfig.builder().residualDiffThreshold(0.1)
                .scmStepsMaskPolicy("fast").scmStepsPolicy("static").build().describe());
        assertEquals("F1B0_W4I1M-1MC3_R0.24_T0O1_SCM-custom-dynamic", DbCacheConfig.builder()
                .scmStepsMaskPolicy("custom").scmStepsMask(new int[] {1, 0, 1}).build().describe());
        assertEquals("F1B0_W4I1M-1MC3_R0.24_T0O1", DbCacheConfig.builder().scmStepsMaskPolicy("none").build()
                .describe());
        assertEquals("F1B0_W4I1M-1MC3_R0.0_T0O1", DbCacheConfig.builder().residualDiffThreshold(0).build().describe());
    }

    @Test
    void stepsMaskFollowsThePolicy() {
        assertNull(DbCacheConfig.builder().scmStepsMaskPolicy("none").build().stepsMask(9));
        assertEquals("111101001", StepsMask.toString(DbCacheConfig.builder().scmStepsMaskPolicy("fast").build()
                .stepsMask(9)));
        int[] custom = {1, 1, 0, 1};
        DbCacheConfig c = DbCacheConfig.builder().scmStepsMaskPolicy("custom").scmStepsMask(custom).build();
        custom[0] = 0; // defensive copies
        assertArrayEquals(new int[] {1, 1, 0, 1}, c.stepsMask(4));
        c.scmStepsMask()[1] = 0;
        assertArrayEquals(new int[] {1, 1, 0, 1}, c.scmStepsMask());
        assertTrue(c.scmEnabled());
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
        assertNotEquals(c, c.toBuilder().scmStepsMask(new int[] {1, 1, 1, 1}).build());
        assertTrue(DbCacheConfig.builder().scmStepsPolicy("static").build().staticScm());
        assertEquals("dynamic", DbCacheConfig.builder().scmStepsPolicy(null).build().scmStepsPolicy());
    }

    @Test
    void accumulatedLimitIsOffWhenUnsetOrNotPositive() {
        assertNull(DbCacheConfig.defaults().accumulatedLimit());
        assertNull(DbCacheConfig.builder().maxAccumulatedResidualDiffThreshold(0.0).build().accumulatedLimit());
        assertEquals(0.5, DbCacheConfig.builder().maxAccumulatedResidualDiffThreshold(0.5).build().accumulatedLimit());
    }

    @Test
    void validationMessagesStartWithTheKey() {
        DbCacheConfig.Builder b = DbCacheConfig.builder();
        assertStartsWith("Fn_compute_blocks must be >= 1", invalid(b.fnComputeBlocks(0).build(), 60, 28));
        assertStartsWith("Bn_compute_blocks must be >= 0",
                invalid(DbCacheConfig.builder().bnComputeBlocks(-1).build(), 60, 28));
        assertStartsWith("Fn_compute_blocks + Bn_compute_blocks must be <= the transformer's 60 blocks",
                invalid(DbCacheConfig.builder().fnComputeBlocks(58).bnComputeBlocks(3).build(), 60, 28));
        assertDoesNotThrow(() -> DbCacheConfig.builder().fnComputeBlocks(30).build().validate(30, 28));
        assertStartsWith("Fn_compute_blocks + Bn_compute_blocks must be <= the transformer's 30 blocks",
                invalid(DbCacheConfig.builder().fnComputeBlocks(31).build(), 30, 28));
        assertStartsWith("num_inference_steps must be >= 1", invalid(DbCacheConfig.defaults(), 60, 0));
        assertStartsWith("max_warmup_steps must be >= 0",
                invalid(DbCacheConfig.builder().maxWarmupSteps(-1).build(), 60, 28));
        assertStartsWith("warmup_interval must be >= 1",
                invalid(DbCacheConfig.builder().warmupInterval(0).build(), 60, 28));
        assertStartsWith("max_cached_steps must be >= -1",
                invalid(DbCacheConfig.builder().maxCachedSteps(-2).build(), 60, 28));
        assertStartsWith("max_continuous_cached_steps must be >= -1",
                invalid(DbCacheConfig.builder().maxContinuousCachedSteps(-2).build(), 60, 28));
        assertStartsWith("residual_diff_threshold must be >= 0",
                invalid(DbCacheConfig.builder().residualDiffThreshold(-0.1).build(), 60, 28));
        assertStartsWith("residual_diff_threshold must be >= 0",
                invalid(DbCacheConfig.builder().residualDiffThreshold(Double.NaN).build(), 60, 28));
        assertStartsWith("max_accumulated_residual_diff_threshold must be >= 0",
                invalid(DbCacheConfig.builder().maxAccumulatedResidualDiffThreshold(-1.0).build(), 60, 28));
        assertStartsWith("taylorseer_order must be 1 or 2",
                invalid(DbCacheConfig.builder().taylorseerOrder(3).build(), 60, 28));
        assertStartsWith("taylorseer_order must be 1 or 2",
                invalid(DbCacheConfig.builder().enableTaylorseer(true).taylorseerOrder(0).build(), 60, 28));
        assertStartsWith("scm_steps_mask_policy must be one of none, slow, medium, fast, ultra, custom",
                invalid(DbCacheConfig.builder().scmStepsMaskPolicy("turbo").build(), 60, 28));
        assertStartsWith("scm_steps_policy must be dynamic or static",
                invalid(DbCacheConfig.builder().scmStepsPolicy("lazy").build(), 60, 28));
        assertStartsWith("scm_steps_mask is required",
                invalid(DbCacheConfig.builder().scmStepsMaskPolicy("custom").build(), 60, 4));
        assertStartsWith("scm_steps_mask length must equal num_inference_steps",
                invalid(DbCacheConfig.builder().scmStepsMaskPolicy("custom").scmStepsMask(new int[] {1, 1, 1})
                        .build(), 60, 4));
        assertStartsWith("scm_steps_mask must contain only 0 and 1",
                invalid(DbCacheConfig.builder().scmStepsMaskPolicy("custom").scmStepsMask(new int[] {1, 1, 2, 1})
                        .build(), 60, 4));
        assertStartsWith("scm_steps_mask is only used with scm_steps_mask_policy custom",
                invalid(DbCacheConfig.builder().scmStepsMaskPolicy("fast").scmStepsMask(new int[] {1, 1, 0, 1})
                        .build(), 60, 4));
        String e = invalid(DbCacheConfig.builder().scmStepsMaskPolicy("fast").build(), 60, 5);
        assertStartsWith("scm_steps_mask_policy fast", e);
        assertTrue(e.contains("total_steps=5"), e);
        assertDoesNotThrow(() -> DbCacheConfig.builder().scmStepsMaskPolicy("custom")
                .scmStepsMask(new int[] {1, 1, 0, 1, 0}).build().validate(60, 5));
        assertDoesNotThrow(() -> DbCacheConfig.builder().scmStepsMaskPolicy("ultra").scmStepsPolicy("static")
                .build().validate(60, 4));
    }
}
