package dev.ditfn.cache.cachedit;

import dev.ditfn.cache.ResidualPredictor;
import org.junit.jupiter.api.Test;

import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Residual predictors (spec §2.6). The runner calls {@code stepBegin()} on every step of the branch, then
 * {@code update} on a computed step or {@code predict} on a cached one. TaylorSeer's {@code current_step} is -1 at the
 * first update (step 0), so it is the step index minus one throughout.
 */
class PredictorsTest {

    /** Drives one branch: {@code computed[s]} says whether step s computes; returns the predictions (null on computes). */
    private static float[][] drive(ResidualPredictor p, boolean[] computed, IntFunction<float[]> y) {
        float[][] out = new float[computed.length][];
        for (int s = 0; s < computed.length; s++) {
            p.stepBegin();
            if (computed[s]) {
                p.update(y.apply(s));
            } else {
                out[s] = p.predict();
            }
        }
        return out;
    }

    private static boolean[] schedule(String cs) {
        boolean[] b = new boolean[cs.length()];
        for (int i = 0; i < b.length; i++) {
            b[i] = cs.charAt(i) == 'C';
        }
        return b;
    }

    // ------------------------------------------------------------ stored

    @Test
    void storedReturnsACopyOfTheLastUpdate() {
        StoredResidualPredictor p = new StoredResidualPredictor();
        assertThrows(IllegalStateException.class, p::predict);
        float[] a = {1f, 2f};
        p.stepBegin();
        p.update(a);
        a[0] = 9f;
        p.stepBegin();
        float[] got = p.predict();
        assertArrayEquals(new float[] {1f, 2f}, got);
        got[1] = 7f;
        p.stepBegin();
        assertArrayEquals(new float[] {1f, 2f}, p.predict());
        p.stepBegin();
        p.update(new float[] {3f});
        p.stepBegin();
        assertArrayEquals(new float[] {3f}, p.predict());
    }

    @Test
    void factoryFollowsTheConfig() {
        assertInstanceOf(StoredResidualPredictor.class, Predictors.predictor(DbCacheConfig.defaults()));
        ResidualPredictor t = Predictors.predictor(DbCacheConfig.builder().enableTaylorseer(true).taylorseerOrder(2)
                .build());
        assertInstanceOf(TaylorSeerPredictor.class, t);
        assertEquals(2, ((TaylorSeerPredictor) t).order());
    }

    // ------------------------------------------------------------ TaylorSeer: step counter and warm-up of the terms

    /**
     * current_step: -1 at the first update, +1 per step after. The {@code current_step > 1} guard means the first
     * derivative appears at the update of step 3 (current_step 2), and the second at step 4.
     */
    @Test
    void derivativesAppearFromTheFourthStep() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(2);
        int[] expectedOrder = {0, 0, 0, 1, 2, 2};
        for (int s = 0; s < 6; s++) {
            p.stepBegin();
            p.update(new float[] {s});
            assertEquals(s - 1, p.currentStep());
            assertEquals(s - 1, p.lastUpdateStep());
            assertEquals(expectedOrder[s], p.availableOrder(), "step " + s);
        }
    }

    /**
     * Before the slope exists a prediction is just D_0 (missing terms are dropped). The guard looks at current_step
     * only, not at whether the previous step was computed: Y = 10s computed at 0, 1, 3 gives at step 3 (c=2) the slope
     * (30 − 10)/2 over the gap of 2.
     */
    @Test
    void beforeTheSlopeExistsThePredictionIsTheLastValue() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(1);
        float[][] got = drive(p, schedule("CCcC"), s -> new float[] {10f * s});
        assertArrayEquals(new float[] {10f}, got[2]);
        assertEquals(1, p.availableOrder());
        p.stepBegin();
        assertArrayEquals(new float[] {40f}, p.predict());
        p.stepBegin();
        assertArrayEquals(new float[] {50f}, p.predict());
    }

    @Test
    void predictBeforeAnyUpdateFails() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(1);
        p.stepBegin();
        assertThrows(IllegalStateException.class, p::predict);
        assertThrows(IllegalArgumentException.class, () -> new TaylorSeerPredictor(0));
    }

    @Test
    void aSecondUpdateInOneStepFails() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(1);
        p.stepBegin();
        p.update(new float[] {1f});
        assertThrows(IllegalStateException.class, () -> p.update(new float[] {1f}));
    }

    // ------------------------------------------------------------ TaylorSeer order 1

    /**
     * Y = 3s + 2 (second element −s), computed at 0,1,2,3,6,9 and cached at 4,5,7,8,10,11. The slope is
     * (Y_last − Y_prev)/gap, so a linear sequence is extrapolated exactly whatever the gaps.
     */
    @Test
    void orderOneIsExactOnALinearSequenceWithUnevenGaps() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(1);
        float[][] got = drive(p, schedule("CCCCccCccCcc"), s -> new float[] {3f * s + 2f, -s});
        for (int s : new int[] {4, 5, 7, 8, 10, 11}) {
            assertArrayEquals(new float[] {3f * s + 2f, -s}, got[s], "step " + s);
        }
    }

    // ------------------------------------------------------------ TaylorSeer order 2

    @Test
    void orderTwoIsExactOnALinearSequence() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(2);
        float[][] got = drive(p, schedule("CCCCCccCcccCc"), s -> new float[] {5f - 2f * s});
        for (int s = 0; s < got.length; s++) {
            if (got[s] != null) {
                assertArrayEquals(new float[] {5f - 2f * s}, got[s], "step " + s);
            }
        }
    }

    /**
     * Y = s², computed 0..4, cached 5, 6. The terms are backward differences, not derivatives at the last step:
     * D0 = 16, D1 = 16 − 9 = 7, D2 = 7 − 5 = 2. So Ŷ(4+e) = 16 + 7e + e², one e short of (4+e)²:
     * step 5 → 24 (true 25), step 6 → 34 (true 36). Upstream's order 2 is not exact on quadratics.
     */
    @Test
    void orderTwoOnAQuadraticWithEvenGapsUsesBackwardDifferences() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(2);
        float[][] got = drive(p, schedule("CCCCCcc"), s -> new float[] {(float) s * s});
        assertArrayEquals(new float[] {24f}, got[5]);
        assertArrayEquals(new float[] {34f}, got[6]);
    }

    /**
     * Y = s² with uneven gaps: computed 0,1,2,3,5,8, cached 4,6,7,9 (current_step = s − 1).
     * <ul>
     * <li>step 3 (c=2): D = [9, 9−4 = 5]; step 4 (e=1): 9 + 5 = 14 (no D2 yet; true 16).</li>
     * <li>step 5 (c=4, gap 2): D1 = (25−9)/2 = 8, D2 = (8−5)/2 = 1.5; step 6 (e=1): 25 + 8 + 1.5/2 = 33.75;
     * step 7 (e=2): 25 + 16 + 1.5·4/2 = 44.</li>
     * <li>step 8 (c=7, gap 3): D1 = (64−25)/3 = 13, D2 = (13−8)/<b>3</b> = 5/3 — upstream divides the change of the
     * slope by the latest gap only, where a divided difference would divide by the distance between the two slopes'
     * midpoints, (3+2)/2, and give 2. Step 9 (e=1): 64 + 13 + (5/3)/2 = 77.8333.</li>
     * </ul>
     */
    @Test
    void orderTwoWithUnevenGapsDividesTheSecondDifferenceByTheLatestGapOnly() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(2);
        float[][] got = drive(p, schedule("CCCCcCccCc"), s -> new float[] {(float) s * s, 2f * s * s});
        assertArrayEquals(new float[] {14f, 28f}, got[4], 1e-6f);
        assertArrayEquals(new float[] {33.75f, 67.5f}, got[6], 1e-5f);
        assertArrayEquals(new float[] {44f, 88f}, got[7], 1e-5f);
        assertArrayEquals(new float[] {64f + 13f + 5f / 6f, 2f * (64f + 13f + 5f / 6f)}, got[9], 1e-4f);
    }

    // ------------------------------------------------------------ TaylorSeer reset

    /**
     * A residual of another size resets everything, the step counter included: the new value is D0 at
     * current_step −1, and derivatives need three more steps again.
     */
    @Test
    void aShapeChangeResetsTheState() {
        TaylorSeerPredictor p = new TaylorSeerPredictor(1);
        drive(p, schedule("CCCCC"), s -> new float[] {s, s});
        assertEquals(1, p.availableOrder());
        p.stepBegin();
        p.update(new float[] {7f, 7f, 7f});
        assertEquals(-1, p.currentStep());
        assertEquals(0, p.availableOrder());
        p.stepBegin();
        assertArrayEquals(new float[] {7f, 7f, 7f}, p.predict());
        p.stepBegin();
        p.update(new float[] {9f, 9f, 9f}); // current_step 1: still no slope
        assertEquals(0, p.availableOrder());
        p.stepBegin();
        p.update(new float[] {10f, 10f, 10f}); // current_step 2, gap 1
        assertEquals(1, p.availableOrder());
        p.stepBegin();
        p.stepBegin();
        assertArrayEquals(new float[] {12f, 12f, 12f}, p.predict());
    }
}
