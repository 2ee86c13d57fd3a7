package dev.ditfn.engine;

import ai.onnxruntime.OrtException;
import dev.ditfn.cache.Branch;
import dev.ditfn.scheduler.FlowMatchEulerScheduler;

import java.util.EnumMap;
import java.util.Map;

/**
 * The flow-match denoising loop every family shares: per step, one prediction per guidance branch, combined, then an
 * Euler step from {@code sigma_i} to {@code sigma_i+1}. The request context is checked before each step.
 */
public final class DenoisingLoop {
    private DenoisingLoop() {
    }

    /** The family's model under a step cache: the velocity of one branch at one step. */
    @FunctionalInterface
    public interface Predictor {
        float[] predict(Branch branch, int step, float sigma, float[] latents) throws OrtException;
    }

    /**
     * Denoises {@code latents} in place over {@code sigmas} ({@code steps + 1} values ending in 0) and returns them.
     */
    public static float[] run(float[] latents, float[] sigmas, Guidance guidance, Predictor model,
            RequestContext context) throws OrtException {
        int steps = sigmas.length - 1;
        for (int i = 0; i < steps; i++) {
            context.checkpoint();
            Map<Branch, float[]> predictions = new EnumMap<>(Branch.class);
            for (Branch b : guidance.branches()) {
                predictions.put(b, model.predict(b, i, sigmas[i], latents));
            }
            FlowMatchEulerScheduler.step(latents, guidance.combine(predictions), sigmas[i], sigmas[i + 1]);
            context.stepDone(i + 1);
        }
        return latents;
    }
}
