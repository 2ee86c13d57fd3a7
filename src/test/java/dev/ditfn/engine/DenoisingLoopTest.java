package dev.ditfn.engine;

import dev.ditfn.cache.Branch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Previews in the denoising loop: the clean latents predicted at the steps a listener wants. */
class DenoisingLoopTest {
    private static final float[] CLEAN = {0.5f, -1f, 2f};
    private static final float[] NOISE = {1f, 0.25f, -0.75f};

    /** A model that knows the answer: flow matching's velocity is noise - x0 at every step. */
    private static float[] exactVelocity(Branch b, int step, float sigma, float[] latents) {
        float[] v = new float[CLEAN.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = NOISE[i] - CLEAN[i];
        }
        return v;
    }

    @Test
    void predictedCleanInvertsTheFlowMatchingInterpolation() {
        float sigma = 0.7f;
        float[] xt = new float[CLEAN.length];
        for (int i = 0; i < xt.length; i++) {
            xt[i] = (1 - sigma) * CLEAN[i] + sigma * NOISE[i];
        }
        assertArrayEquals(CLEAN, DenoisingLoop.predictedClean(xt, exactVelocity(Branch.cond, 0, sigma, xt), sigma),
                1e-6f);
    }

    @Test
    void previewsAreDecodedOnlyAtTheWantedSteps() throws Exception {
        float[] sigmas = {1f, 0.75f, 0.5f, 0.25f, 0f};
        List<Integer> seen = new ArrayList<>();
        List<float[]> decoded = new ArrayList<>();
        RequestContext context = new RequestContext(null, null, new RequestContext.PreviewListener() {
            @Override
            public boolean wants(int stepsDone, int steps) {
                assertEquals(4, steps);
                return stepsDone == 2 || stepsDone == 3;
            }

            @Override
            public void preview(int stepsDone, byte[] encoded) {
                seen.add(stepsDone);
            }
        });
        float[] out = DenoisingLoop.run(NOISE.clone(), sigmas, Guidance.NONE, DenoisingLoopTest::exactVelocity,
                context, x0 -> {
                    decoded.add(x0);
                    return new byte[0];
                });
        assertEquals(List.of(2, 3), seen);
        for (float[] x0 : decoded) {
            assertArrayEquals(CLEAN, x0, 1e-5f);
        }
        assertArrayEquals(CLEAN, out, 1e-5f);
    }
}
