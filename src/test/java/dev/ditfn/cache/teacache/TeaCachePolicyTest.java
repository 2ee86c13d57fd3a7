package dev.ditfn.cache.teacache;

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

/**
 * TeaCache with Qwen-Image's coefficients (caching spec §1.3) on synthetic modulated inputs with known distances;
 * expected values are computed by hand from the spec.
 */
class TeaCachePolicyTest {
    /** vLLM-Omni's table for QwenImageTransformer2DModel. */
    private static final double[] QWEN_COEFFICIENTS = {-450.0, 280.0, -45.0, 3.2, -0.02};
    private static final TeaCacheConfig QWEN = new TeaCacheConfig(0.2, QWEN_COEFFICIENTS, false);

    /** A modulated input whose relative L1 distance to {@code ones(n)} is exactly {@code d}. */
    private static float[] at(double d) {
        float[] m = new float[4];
        Arrays.fill(m, (float) (1 + d));
        return m;
    }

    /**
     * Inputs whose consecutive relative L1 distances are all {@code d}: ones(4) alternating with
     * {@code [1 + 2d, 1 − 2d, 1, 1]} (both sum to 4, and they differ by {@code 4d} in L1).
     */
    private static float[] alternating(int step, double d) {
        return step % 2 == 0 ? new float[] {1, 1, 1, 1} : new float[] {(float) (1 + 2 * d), (float) (1 - 2 * d), 1, 1};
    }

    /** Decides {@code steps} calls fed {@link #alternating} inputs at distance {@code d}. */
    private static List<Decision> run(TeaCacheConfig config, int steps, double d) {
        TeaCachePolicy policy = new TeaCachePolicy(config, steps);
        List<Decision> out = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            out.add(policy.decide(step, alternating(step, d)));
        }
        return out;
    }

    @Test
    void rescaleIsThePolynomialHighestDegreeFirst() {
        // §1.3: p(d) = -450 d⁴ + 280 d³ - 45 d² + 3.2 d - 0.02, by hand:
        // p(0.05) = -0.0028125 + 0.035 - 0.1125 + 0.16 - 0.02 = 0.0596875 (the spec's ≈ 0.060)
        assertEquals(0.0596875, QWEN.rescale(0.05), 1e-12);
        // p(0.10) = -0.045 + 0.28 - 0.45 + 0.32 - 0.02 = 0.085 (the spec's ≈ 0.085)
        assertEquals(0.085, QWEN.rescale(0.10), 1e-12);
        assertEquals(-0.02, QWEN.rescale(0), 0);
        // p(0.5) = -28.125 + 35 - 11.25 + 1.6 - 0.02 = -2.795: the leading coefficient is the d⁴ one
        assertEquals(-2.795, QWEN.rescale(0.5), 1e-12);
    }

    @Test
    void atDistanceFiveHundredthsThreeReusesPerCompute() {
        // §1.3 sanity check: |p(0.05)| = 0.0596875 per call, threshold 0.2 -> reuse at 0.0597, 0.1194, 0.1791,
        // compute (and reset) at 0.23875; the first call always computes
        List<Decision> d = run(QWEN, 10, 0.05);
        assertEquals(List.of("first", "similar", "similar", "similar", "threshold", "similar", "similar", "similar",
                "threshold", "similar"), d.stream().map(Decision::reason).toList());
        assertEquals(List.of(false, true, true, true, false, true, true, true, false, true),
                d.stream().map(Decision::cache).toList());
        assertNull(d.get(0).diff());
        double[] accumulated = {0.0596875, 0.119375, 0.1790625, 0.23875};
        for (int i = 0; i < 4; i++) {
            assertEquals(accumulated[i], d.get(1 + i).diff(), 1e-6, "step " + (1 + i));
            assertEquals(accumulated[i], d.get(5 + i).diff(), 1e-6, "after the reset, step " + (5 + i));
        }
        assertEquals(0.0596875, d.get(9).diff(), 1e-6);
    }

    @Test
    void atDistanceOneTenthTwoReusesPerCompute() {
        // §1.3: |p(0.10)| = 0.085 -> reuse at 0.085 and 0.17, compute at 0.255
        List<Decision> d = run(QWEN, 7, 0.10);
        assertEquals(List.of(false, true, true, false, true, true, false), d.stream().map(Decision::cache).toList());
        assertEquals(0.085, d.get(1).diff(), 1e-6);
        assertEquals(0.17, d.get(2).diff(), 1e-6);
        assertEquals(0.255, d.get(3).diff(), 1e-6);
        assertEquals(0.255, d.get(6).diff(), 1e-6);
    }

    @Test
    void reachingTheThresholdExactlyComputes() {
        // identical inputs add |p(0)| = 0.02 per call: 0.02 reuses, 0.04 is not below 0.04
        TeaCachePolicy policy = new TeaCachePolicy(new TeaCacheConfig(0.04, QWEN_COEFFICIENTS,
                false), 10);
        policy.decide(0, at(0));
        assertEquals(Decision.reuse("similar", 0.02), policy.decide(1, at(0)));
        assertEquals(Decision.compute("threshold", 0.04), policy.decide(2, at(0)));
        assertEquals(Decision.reuse("similar", 0.02), policy.decide(3, at(0)));
    }

    @Test
    void withoutForceLastStepTheLastStepMayReuse() {
        // vLLM-Omni's default: no forced compute at the end
        List<Decision> d = run(QWEN, 4, 0.05);
        assertTrue(d.get(3).cache());
        assertEquals("similar", d.get(3).reason());
    }

    @Test
    void thresholdZeroNeverReuses() {
        TeaCachePolicy policy = new TeaCachePolicy(new TeaCacheConfig(0, QWEN_COEFFICIENTS,
                false), 5);
        for (int step = 0; step < 5; step++) {
            assertFalse(policy.decide(step, at(0)).cache());
        }
    }

    @Test
    void forceLastStepComputesTheLastStep() {
        TeaCacheConfig huge = new TeaCacheConfig(100, QWEN_COEFFICIENTS, true);
        TeaCachePolicy policy = new TeaCachePolicy(huge, 3);
        assertFalse(policy.decide(0, at(0)).cache());
        assertTrue(policy.decide(1, at(0.01)).cache());
        Decision last = policy.decide(2, at(0.02));
        assertFalse(last.cache());
        assertEquals("last_step", last.reason());
    }

    @Test
    void absoluteValueOfThePolynomialIsAccumulated() {
        // p(0) = -0.02: vLLM-Omni accumulates |p|, so identical inputs still add 0.02 per call.
        TeaCachePolicy policy = new TeaCachePolicy(QWEN, 20);
        policy.decide(0, at(0));
        Decision d = policy.decide(1, at(0));
        assertTrue(d.cache());
        assertEquals(0.02, d.diff(), 1e-9);
    }

    @Test
    void configValidationNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TeaCacheConfig(-1, QWEN_COEFFICIENTS, false).validate());
        assertTrue(e.getMessage().startsWith("rel_l1_thresh"));
        e = assertThrows(IllegalArgumentException.class, () -> new TeaCacheConfig(0.2, new double[3], false).validate());
        assertTrue(e.getMessage().startsWith("coefficients"));
    }
}
