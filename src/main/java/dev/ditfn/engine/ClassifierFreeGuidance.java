package dev.ditfn.engine;

import dev.ditfn.cache.Branch;

import java.util.List;
import java.util.Map;

/**
 * Classifier-free guidance as Z-Image's pipeline combines it: {@code cond + scale · (cond − uncond)} (not
 * {@code uncond + scale · (cond − uncond)}), without rescaling. Linear, so it commutes with the pipeline's negation of
 * the model output.
 */
public final class ClassifierFreeGuidance implements Guidance {
    private final float scale;

    public ClassifierFreeGuidance(float scale) {
        this.scale = scale;
    }

    @Override
    public List<Branch> branches() {
        return List.of(Branch.cond, Branch.uncond);
    }

    @Override
    public float[] combine(Map<Branch, float[]> predictions) {
        float[] cond = predictions.get(Branch.cond);
        float[] uncond = predictions.get(Branch.uncond);
        if (cond.length != uncond.length) {
            throw new IllegalArgumentException("cond/uncond sizes " + cond.length + "/" + uncond.length + " differ");
        }
        float[] out = new float[cond.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = cond[i] + scale * (cond[i] - uncond[i]);
        }
        return out;
    }
}
