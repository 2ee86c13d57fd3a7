package dev.ditfn.engine;

import ai.onnxruntime.OrtException;
import dev.ditfn.cache.Branch;
import dev.ditfn.scheduler.FlowMatchEulerScheduler;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

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
     * Where {@code context} wants a preview, {@code decode} encodes the clean latents predicted at that step (same
     * packed layout as {@code latents}).
     */
    public static float[] run(float[] latents, float[] sigmas, Guidance guidance, Predictor model,
            RequestContext context, Function<float[], byte[]> decode) throws OrtException {
        int steps = sigmas.length - 1;
        for (int i = 0; i < steps; i++) {
            context.checkpoint();
            Map<Branch, float[]> predictions = new EnumMap<>(Branch.class);
            for (Branch b : guidance.branches()) {
                predictions.put(b, model.predict(b, i, sigmas[i], latents));
            }
            float[] velocity = guidance.combine(predictions);
            if (context.wantsPreview(i + 1, steps)) {
                context.preview(i + 1, decode.apply(predictedClean(latents, velocity, sigmas[i])));
            }
            FlowMatchEulerScheduler.step(latents, velocity, sigmas[i], sigmas[i + 1]);
            context.stepDone(i + 1);
        }
        return latents;
    }

    /** Flow matching's x_t = (1 - sigma) x0 + sigma noise and v = noise - x0 give x0 = x_t - sigma v. */
    static float[] predictedClean(float[] latents, float[] velocity, float sigma) {
        float[] x0 = new float[latents.length];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = latents[i] - sigma * velocity[i];
        }
        return x0;
    }
}
