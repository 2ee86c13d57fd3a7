package dev.ditfn.cache.cachedit;

import dev.ditfn.cache.Decision;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each DBCache check (spec §2.3) in isolation on synthetic Fn residuals. */
class DbCachePolicyTest {

    private static float[] r(float... v) {
        return v;
    }

    private static float[] fill(float v) {
        float[] a = new float[4];
        Arrays.fill(a, v);
        return a;
    }

    /** A config with every limit off, so that only the check under test acts. */
    private static DbCacheConfig.Builder bare() {
        return DbCacheConfig.builder().maxWarmupSteps(0).maxContinuousCachedSteps(-1).maxCachedSteps(-1)
                .residualDiffThreshold(0.24);
    }

    /** Runs steps 0..n-1 with the same residual and returns the verdicts' reasons (upper case = cache). */
    private static List<String> run(DbCachePolicy p, int n) {
        List<String> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            Decision d = p.decide(s, fill(1f));
            out.add(d.cache() ? d.reason().toUpperCase() : d.reason());
        }
        return out;
    }

    // ---------------------------------------------------------------- 1. warmup

    @Test
    void warmupComputesTheFirstWSteps() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(4).build(), null);
        assertEquals(List.of("warmup", "warmup", "warmup", "warmup", "SIMILAR", "SIMILAR"), run(p, 6));
        assertEquals(List.of(0, 1, 2, 3), p.computedSteps());
        assertEquals(List.of(4, 5), p.cachedSteps());
    }

    @Test
    void warmupIntervalForcesOnlyEveryIthStepAndTheRestGoThroughTheChecks() {
        // range(0, 4, 2) = {0, 2}: steps 1 and 3 are measured against the Fn buffer like any other step
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(4).warmupInterval(2).build(), null);
        assertEquals(List.of("warmup", "SIMILAR", "warmup", "SIMILAR", "SIMILAR"), run(p, 5));
        assertEquals(List.of(0.0, 0.0, 0.0), p.diffs());
    }

    @Test
    void noWarmupMeansTheFirstStepHasNoResidualToCompareWith() {
        DbCachePolicy p = new DbCachePolicy(bare().build(), null);
        assertEquals(List.of("no_residual", "SIMILAR"), run(p, 2));
    }

    @Test
    void aMaskCutsWarmupToItsLeadingOnes() {
        int[] mask = StepsMask.parse("1101111");
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(4).build(), mask);
        assertEquals(2, p.warmupLimit());
        // step 2 is a mask 0 (dynamic): checked, cached; step 3 is a mask 1, no longer warmup
        assertEquals(List.of("warmup", "warmup", "SIMILAR", "mask", "mask"), run(p, 5));
    }

    // ---------------------------------------------------------------- 2. SCM mask

    @Test
    void staticMaskCachesEveryZeroWithoutFurtherChecks() {
        // Z-Image-Turbo fast mask; even max_cached 0, max_continuous 0 and a huge diff do not stop a static cache
        int[] mask = StepsMask.forPolicy("fast", 9); // 111101001
        DbCacheConfig c = bare().maxWarmupSteps(4).maxCachedSteps(0).maxContinuousCachedSteps(0)
                .scmStepsMaskPolicy("fast").scmStepsPolicy("static").build();
        DbCachePolicy p = new DbCachePolicy(c, mask);
        List<String> reasons = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            Decision d = p.decide(s, fill(s * 100f + 1f));
            reasons.add(d.cache() ? d.reason().toUpperCase() : d.reason());
            if (d.cache()) {
                assertNull(d.diff());
            }
        }
        assertEquals(List.of("warmup", "warmup", "warmup", "warmup", "STATIC_MASK", "mask", "STATIC_MASK",
                "STATIC_MASK", "mask"), reasons);
        assertEquals(List.of(4, 6, 7), p.cachedSteps());
        assertTrue(p.diffs().isEmpty());
    }

    @Test
    void staticMaskThatStartsWithACachedStepComputesItFirstAndCountsItAsComputed() {
        // Nothing was computed yet, so there is no residual to reuse: the step computes, and the bookkeeping says so
        // (a cached verdict here made the counters and the stored residual disagree with what ran).
        int[] mask = StepsMask.parse("0010");
        DbCachePolicy p = new DbCachePolicy(bare().scmStepsPolicy("static").build(), mask);
        assertEquals(List.of("no_residual", "STATIC_MASK", "mask", "STATIC_MASK"), run(p, 4));
        assertEquals(List.of(0, 2), p.computedSteps());
        assertEquals(List.of(1, 3), p.cachedSteps());
        assertEquals(1, p.continuousCounter());
    }

    @Test
    void dynamicMaskLetsTheZerosThroughToTheDiffAndComputesTheOnes() {
        int[] mask = StepsMask.parse("1101");
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(4).scmStepsMaskPolicy("custom")
                .scmStepsMask(mask).build(), mask);
        assertEquals(Decision.compute("warmup"), p.decide(0, fill(1f)));
        assertEquals(Decision.compute("warmup"), p.decide(1, fill(1f)));
        Decision d2 = p.decide(2, fill(2f)); // diff 1.0: a mask 0 still computes when the residual moved
        assertEquals(Decision.compute("threshold", 1.0), d2);
        assertEquals(Decision.compute("mask"), p.decide(3, fill(2f))); // identical, but mask 1
        DbCachePolicy q = new DbCachePolicy(bare().maxWarmupSteps(4).build(), mask);
        q.decide(0, fill(1f));
        q.decide(1, fill(1f));
        assertEquals(Decision.reuse("similar", 0.0), q.decide(2, fill(1f)));
    }

    @Test
    void stepsPastTheMaskCountAsZeros() {
        DbCachePolicy p = new DbCachePolicy(bare().scmStepsPolicy("static").build(), StepsMask.parse("11"));
        assertEquals(List.of("mask", "mask", "STATIC_MASK"), run(p, 3));
    }

    // ---------------------------------------------------------------- 3. max cached

    @Test
    void maxCachedStopsCachingForTheRestOfTheRequest() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).maxCachedSteps(2).build(), null);
        assertEquals(List.of("warmup", "SIMILAR", "SIMILAR", "max_cached", "max_cached"), run(p, 5));
    }

    @Test
    void maxCachedZeroNeverCachesDynamically() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).maxCachedSteps(0).build(), null);
        assertEquals(List.of("warmup", "max_cached", "max_cached"), run(p, 3));
    }

    @Test
    void maxCachedIsCheckedBeforeMaxContinuous() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).maxCachedSteps(1).maxContinuousCachedSteps(1)
                .build(), null);
        assertEquals(List.of("warmup", "SIMILAR", "max_cached"), run(p, 3));
        assertEquals(1, p.continuousCounter()); // check 4 never ran, so it never reset
    }

    // ---------------------------------------------------------------- 4. max continuous

    /**
     * vLLM-Omni defaults on a constant residual. Counter: 1st cache ever +1 → 1, adjacent +1 → 2, → 3; step 7 trips
     * (reset to 0); step 8 is not adjacent to the last cached step 6: unchanged 0; step 9 adjacent with counter 0:
     * +2 → 2; step 10 → 3; step 11 trips. So runs of exactly 3.
     */
    @Test
    void defaultsOnAConstantResidualCacheRunsOfThree() {
        DbCachePolicy p = new DbCachePolicy(DbCacheConfig.defaults(), null);
        List<Integer> counters = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (int s = 0; s < 12; s++) {
            Decision d = p.decide(s, fill(1f));
            reasons.add(d.cache() ? d.reason().toUpperCase() : d.reason());
            counters.add(p.continuousCounter());
        }
        assertEquals(List.of("warmup", "warmup", "warmup", "warmup", "SIMILAR", "SIMILAR", "SIMILAR", "max_continuous",
                "SIMILAR", "SIMILAR", "SIMILAR", "max_continuous"), reasons);
        assertEquals(List.of(0, 0, 0, 0, 1, 2, 3, 0, 0, 2, 3, 0), counters);
    }

    /**
     * The quirk (spec §2.4): a natural (threshold) compute does not reset the counter, so the next run is cut short.
     * Steps 1, 2 cache (counter 1, 2); step 3 computes on the threshold (counter stays 2); step 4 caches but is not
     * adjacent to cached step 2 (unchanged 2); step 5 adjacent → 3; step 6 trips after a run of only two.
     */
    @Test
    void aNaturalComputeDoesNotResetTheCounterSoALaterRunIsCutShort() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).maxContinuousCachedSteps(3).build(), null);
        float[][] rs = {fill(1f), fill(1f), fill(1f), fill(3f), fill(3f), fill(3f), fill(3f), fill(3f)};
        List<String> reasons = new ArrayList<>();
        List<Integer> counters = new ArrayList<>();
        for (int s = 0; s < rs.length; s++) {
            Decision d = p.decide(s, rs[s]);
            reasons.add(d.cache() ? d.reason().toUpperCase() : d.reason());
            counters.add(p.continuousCounter());
        }
        assertEquals(List.of("warmup", "SIMILAR", "SIMILAR", "threshold", "SIMILAR", "SIMILAR", "max_continuous",
                "SIMILAR"), reasons);
        assertEquals(List.of(0, 1, 2, 2, 2, 3, 0, 0), counters);
    }

    /** The same sequence with {@code clean_continuous_counter}: step 3 resets, the second run reaches 3. */
    @Test
    void theCleanCounterResetsOnEveryCompute() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).maxContinuousCachedSteps(3)
                .cleanContinuousCounter(true).build(), null);
        float[][] rs = {fill(1f), fill(1f), fill(1f), fill(3f), fill(3f), fill(3f), fill(3f), fill(3f)};
        List<String> reasons = new ArrayList<>();
        List<Integer> counters = new ArrayList<>();
        for (int s = 0; s < rs.length; s++) {
            Decision d = p.decide(s, rs[s]);
            reasons.add(d.cache() ? d.reason().toUpperCase() : d.reason());
            counters.add(p.continuousCounter());
        }
        assertEquals(List.of("warmup", "SIMILAR", "SIMILAR", "threshold", "SIMILAR", "SIMILAR", "SIMILAR",
                "max_continuous"), reasons);
        assertEquals(List.of(0, 1, 2, 0, 1, 2, 3, 0), counters);
    }

    /**
     * Upstream with max_continuous 1: after the first trip the counter reads 0 at the first cached step of a run
     * (not adjacent to the previous cached step) and jumps to 2 at the second, so runs of two get through. The clean
     * counter counts the run length and keeps runs at one.
     */
    @Test
    void maxContinuousOneLetsRunsOfTwoThroughUpstreamButNotClean() {
        DbCachePolicy upstream = new DbCachePolicy(bare().maxWarmupSteps(1).maxContinuousCachedSteps(1).build(), null);
        assertEquals(List.of("warmup", "SIMILAR", "max_continuous", "SIMILAR", "SIMILAR", "max_continuous"),
                run(upstream, 6));
        DbCachePolicy clean = new DbCachePolicy(bare().maxWarmupSteps(1).maxContinuousCachedSteps(1)
                .cleanContinuousCounter(true).build(), null);
        assertEquals(List.of("warmup", "SIMILAR", "max_continuous", "SIMILAR", "max_continuous", "SIMILAR"),
                run(clean, 6));
    }

    @Test
    void maxContinuousZeroNeverCachesDynamically() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).maxContinuousCachedSteps(0).build(), null);
        assertEquals(List.of("warmup", "max_continuous", "max_continuous"), run(p, 3));
    }

    // ---------------------------------------------------------------- 5. accumulated diff

    /**
     * Limit 0.25, each step differs from the warmup residual by 0.1 (cached steps keep the Fn buffer, so the diff
     * stays 0.1). The sum is checked before the step's own diff is added: steps 1..3 cache (sum 0.1, 0.2, 0.3),
     * step 4 sees 0.3 ≥ 0.25 and computes, and since the sum never resets within a request so does every later step.
     */
    @Test
    void accumulatedDiffComputesOnceTheSumReachesTheLimit() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).residualDiffThreshold(0.5)
                .maxAccumulatedResidualDiffThreshold(0.25).build(), null);
        assertEquals(Decision.compute("warmup"), p.decide(0, fill(1f)));
        for (int s = 1; s <= 3; s++) {
            Decision d = p.decide(s, fill(1.1f));
            assertTrue(d.cache(), "step " + s);
            assertEquals(0.1, d.diff(), 1e-6);
        }
        assertEquals(0.3, p.accumulatedDiff(), 1e-6);
        assertEquals(Decision.compute("accumulated"), p.decide(4, fill(1.1f)));
        assertEquals(Decision.compute("accumulated"), p.decide(5, fill(1.1f)));
        assertEquals(3, p.diffs().size());
    }

    @Test
    void accumulatedLimitOfZeroIsOffAsUpstream() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).residualDiffThreshold(0.5)
                .maxAccumulatedResidualDiffThreshold(0.0).build(), null);
        p.decide(0, fill(1f));
        for (int s = 1; s < 10; s++) {
            assertTrue(p.decide(s, fill(1.1f)).cache());
        }
    }

    // ---------------------------------------------------------------- 6./7. threshold and similarity

    @Test
    void thresholdZeroCachesNothingAndMeasuresNothing() {
        DbCachePolicy p = new DbCachePolicy(bare().residualDiffThreshold(0).build(), null);
        assertEquals(List.of("disabled", "disabled", "disabled", "disabled"), run(p, 4));
        assertTrue(p.cachedSteps().isEmpty());
        assertTrue(p.diffs().isEmpty());
    }

    @Test
    void thresholdOfOneOrMoreAlwaysCachesAfterWarmupWithoutMeasuring() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(2).residualDiffThreshold(1.0).build(), null);
        assertEquals(Decision.compute("warmup"), p.decide(0, fill(1f)));
        assertEquals(Decision.compute("warmup"), p.decide(1, fill(1f)));
        assertEquals(Decision.reuse("similar", null), p.decide(2, fill(1000f)));
        assertEquals(Decision.reuse("similar", null), p.decide(3, fill(-7f)));
        // even a shape change: upstream tests threshold >= 1 before the shapes
        assertEquals(Decision.reuse("similar", null), p.decide(4, r(1f, 2f)));
        assertTrue(p.diffs().isEmpty());
        // but not without a Fn buffer
        DbCachePolicy q = new DbCachePolicy(bare().residualDiffThreshold(1.5).build(), null);
        assertEquals(Decision.compute("no_residual"), q.decide(0, fill(1f)));
        assertEquals(Decision.reuse("similar", null), q.decide(1, fill(5f)));
    }

    /** diff = Σ|4−5| / Σ|4| = 4/16 = 0.25 exactly: a diff equal to the threshold computes (strict &lt;). */
    @Test
    void aDiffEqualToTheThresholdComputes() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).residualDiffThreshold(0.25).build(), null);
        p.decide(0, fill(4f));
        assertEquals(Decision.compute("threshold", 0.25), p.decide(1, fill(5f)));
        assertEquals(Decision.reuse("similar", 0.125), p.decide(2, fill(5.625f))); // vs step 1: 2.5/20
    }

    /**
     * Rprev is the Fn residual of the last computed step. Warmup stores 10; step 1 (12) caches at 0.2 and is not
     * stored; step 2 (14) is measured against 10 (0.4 → compute), not against 12 (which would give 0.167 and cache);
     * step 3 (15) is then measured against 14.
     */
    @Test
    void theDiffIsMeasuredAgainstTheLastComputedStep() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).residualDiffThreshold(0.3).build(), null);
        p.decide(0, fill(10f));
        assertEquals(Decision.reuse("similar", 0.2), p.decide(1, fill(12f)));
        assertEquals(Decision.compute("threshold", 0.4), p.decide(2, fill(14f)));
        Decision d3 = p.decide(3, fill(15f));
        assertTrue(d3.cache());
        assertEquals(1.0 / 14.0, d3.diff(), 1e-9);
        assertEquals(List.of(0.2, 0.4, d3.diff()), p.diffs());
        assertEquals(List.of(0, 2), p.computedSteps());
        assertEquals(List.of(1, 3), p.cachedSteps());
    }

    @Test
    void theFnBufferIsACopy() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).build(), null);
        float[] r0 = fill(1f);
        p.decide(0, r0);
        Arrays.fill(r0, 100f); // the caller reuses its buffer
        assertEquals(Decision.reuse("similar", 0.0), p.decide(1, fill(1f)));
    }

    @Test
    void theDiffUsesAllElementsWithTheOldResidualAsDenominator() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).residualDiffThreshold(0.9).build(), null);
        p.decide(0, r(1f, -3f));
        // (|2−1| + |−3−(−3)|) / (|1| + |−3|) = 1/4, not 1/5
        assertEquals(0.25, p.decide(1, r(2f, -3f)).diff(), 0);
    }

    @Test
    void aShapeChangeComputesAndReplacesTheFnBuffer() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).build(), null);
        p.decide(0, fill(1f));
        assertEquals(Decision.compute("no_residual"), p.decide(1, r(1f, 1f, 1f)));
        assertEquals(Decision.reuse("similar", 0.0), p.decide(2, r(1f, 1f, 1f)));
        assertTrue(p.diffs().equals(List.of(0.0)));
    }

    @Test
    void aZeroFnBufferNeverCaches() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).build(), null);
        p.decide(0, fill(0f));
        Decision d = p.decide(1, fill(0f)); // 0/0 = NaN, NaN < threshold is false
        assertFalse(d.cache());
        assertTrue(Double.isNaN(d.diff()));
        assertEquals(0.0, p.accumulatedDiff());
    }

    @Test
    void badArgumentsAreRejected() {
        DbCachePolicy p = new DbCachePolicy(bare().build(), null);
        assertThrows(NullPointerException.class, () -> p.decide(0, null));
        assertThrows(IllegalArgumentException.class, () -> p.decide(-1, fill(1f)));
        assertThrows(IllegalArgumentException.class, () -> new DbCachePolicy(bare().build(), new int[] {1, 2}));
    }

    @Test
    void theAccessorsAreSnapshots() {
        DbCachePolicy p = new DbCachePolicy(bare().maxWarmupSteps(1).build(), null);
        run(p, 3);
        List<Integer> cached = p.cachedSteps();
        p.decide(3, fill(1f));
        assertEquals(List.of(1, 2), cached);
        assertThrows(UnsupportedOperationException.class, () -> p.cachedSteps().add(9));
    }
}
