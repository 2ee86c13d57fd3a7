package dev.ditfn.cache.teacache;

import dev.ditfn.cache.Decision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TeaCache's accumulation with Qwen-Image's coefficients, on synthetic modulated inputs with known distances. */
class TeaCachePolicyTest {
    /** vLLM-Omni's table for QwenImageTransformer2DModel. */
    private static final double[] QWEN_COEFFICIENTS = {-450.0, 280.0, -45.0, 3.2, -0.02};
    private static final TeaCacheConfig QWEN = new TeaCacheConfig(0.2, QWEN_COEFFICIENTS, false);

    /** A modulated input whose relative L1 distance to {@code ones(n)} is exactly {@code d}. */
    private static float[] at(double d) {
        float[] m = new float[4];
        java.util.Arrays.fill(m, (float) (1 + d));
        return m;
    }

    private static double p(double d) {
        return -450 * Math.pow(d, 4) + 280 * Math.pow(d, 3) - 45 * d * d + 3.2 * d - 0.02;
    }

    @Test
    void rescaleIsThePolynomialHighestDegreeFirst() {
        assertEquals(p(0.05), QWEN.rescale(0.05), 1e-12);
        assertEquals(0.0597, QWEN.rescale(0.05), 5e-4, "the spec's sanity value p(0.05) ~ 0.060");
        assertEquals(0.0855, QWEN.rescale(0.10), 5e-4, "the spec's sanity value p(0.10) ~ 0.085");
    }

    @Test
    void accumulatesRescaledDistancesAndResetsOnCompute() {
        TeaCachePolicy policy = new TeaCachePolicy(QWEN, 10);
        Decision first = policy.decide(0, at(0));
        assertFalse(first.cache());
        assertEquals("first", first.reason());
        assertNull(first.diff());
        // Every later input sits at relative distance 0.05 from the previous one only if each is compared to its
        // predecessor: feed the same vector again and again scaled by (1+0.05) per step.
        float[] m = at(0);
        double acc = 0;
        int cached = 0;
        for (int step = 1; step < 10; step++) {
            float[] next = m.clone();
            for (int i = 0; i < next.length; i++) {
                next[i] *= 1.05f;
            }
            double d = 0.05 / (1 + 1e-8 / m[0]); // |m·1.05 − m| / (|m| + eps)
            acc += Math.abs(p(d));
            Decision dec = policy.decide(step, next);
            if (acc < 0.2) {
                assertTrue(dec.cache(), "step " + step);
                assertEquals("similar", dec.reason());
                cached++;
            } else {
                assertFalse(dec.cache(), "step " + step);
                assertEquals("threshold", dec.reason());
                acc = 0;
            }
            assertEquals(dec.cache() ? acc : dec.diff(), dec.diff(), 1e-5, "reported accumulated distance");
            m = next;
        }
        // p(0.05) ~ 0.06: three reuses per compute (the spec's sanity check): steps 1-3, 5-7 and 9 reuse
        assertEquals(7, cached);
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
