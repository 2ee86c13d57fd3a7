package dev.ditfn.model.zimage;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.scheduler.FlowMatchEulerScheduler;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Z-Image's schedule and sign conventions (zimage-edit-spec A4.3, A4.4) on hand-computed values. */
class ZImageScheduleTest {
    private static final FlowMatchEulerScheduler TURBO = scheduler();

    private static FlowMatchEulerScheduler scheduler() {
        try {
            return new FlowMatchEulerScheduler(FlowMatchEulerScheduler.Config.fromJson(
                    new ObjectMapper().readTree(ZImageSnapshot.SCHEDULER_CONFIG)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static float[] sigmas(int steps) {
        return TURBO.sigmas(FlowMatchEulerScheduler.torchLinspace(steps), 4096);
    }

    @Test
    void eightStepsWithStaticShiftThree() {
        // σ̂ = linspace(1, 1/8, 8); σ = 3σ̂ / (1 + 2σ̂); the image size does not matter (no dynamic shift)
        assertArrayEquals(new float[] {1f, 21f / 22, 0.9f, 5f / 6, 0.75f, 9f / 14, 0.5f, 0.3f, 0f}, sigmas(8), 1e-6f);
        assertArrayEquals(sigmas(8), TURBO.sigmas(FlowMatchEulerScheduler.torchLinspace(8), 16));
    }

    @Test
    void twentyEightSteps() {
        float[] s = sigmas(28);
        assertEquals(29, s.length);
        for (int k = 0; k < 28; k++) {
            double hat = 1 - k * (1 - 1.0 / 28) / 27;
            assertEquals(3 * hat / (1 + 2 * hat), s[k], 1e-6, "sigma " + k);
        }
        assertEquals(3.0 / 28 / (1 + 2.0 / 28), s[27], 1e-7, "the last step starts at shift(1/28)");
        assertEquals(0f, s[28]);
    }

    @Test
    void theModelSeesOneMinusSigma() {
        assertEquals(0f, ZImagePipeline.modelTimestep(1f));
        assertEquals(0.7f, ZImagePipeline.modelTimestep(0.3f), 1e-6f);
        assertEquals(1f, ZImagePipeline.modelTimestep(0f));
    }

    /**
     * A perfect Z-Image model outputs {@code x0 − noise}. Negated, one Euler step from σ to σ' lands exactly on
     * {@code (1 − σ')·x0 + σ'·noise}; without the negation the step moves away from the clean image.
     */
    @Test
    void theNegatedOutputStepsTowardsTheCleanImage() {
        float[] x0 = {0.5f, -1.25f, 2f};
        float[] noise = {1f, 0.3f, -0.7f};
        float sigma = 0.9f;
        float next = 0.5f;
        float[] prediction = new float[3];
        float[] xt = new float[3];
        for (int i = 0; i < 3; i++) {
            prediction[i] = x0[i] - noise[i];
            xt[i] = (1 - sigma) * x0[i] + sigma * noise[i];
        }
        float[] stepped = xt.clone();
        FlowMatchEulerScheduler.step(stepped, ZImagePipeline.velocity(prediction.clone()), sigma, next);
        float[] wrong = xt.clone();
        FlowMatchEulerScheduler.step(wrong, prediction, sigma, next);
        for (int i = 0; i < 3; i++) {
            assertEquals((1 - next) * x0[i] + next * noise[i], stepped[i], 1e-6f);
            assertTrue(Math.abs(wrong[i] - x0[i]) > Math.abs(xt[i] - x0[i]), "unnegated, the step goes the wrong way");
        }
    }
}
