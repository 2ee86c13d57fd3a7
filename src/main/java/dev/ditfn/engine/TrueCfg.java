package dev.ditfn.engine;

import dev.ditfn.cache.Branch;

import java.util.List;
import java.util.Map;

/**
 * True classifier-free guidance as Qwen-Image's pipelines apply it: {@code c = uncond + scale · (cond − uncond)}, then each token's
 * vector is rescaled to the norm of the conditional prediction, {@code c · ‖cond‖ / ‖c‖} over the channel axis.
 * Active only when the scale exceeds 1 and a negative prompt is given ({@code RequestDefaults}).
 */
public final class TrueCfg implements Guidance {
    private final float scale;
    private final int channels;

    /** @param channels the width of one token's prediction (the norm is taken over it) */
    public TrueCfg(float scale, int channels) {
        this.scale = scale;
        this.channels = channels;
    }

    @Override
    public List<Branch> branches() {
        return List.of(Branch.cond, Branch.uncond);
    }

    @Override
    public float[] combine(Map<Branch, float[]> predictions) {
        return combine(predictions.get(Branch.cond), predictions.get(Branch.uncond), scale, channels);
    }

    /**
     * @param cond   conditional velocity, {@code tokens × channels} floats
     * @param uncond unconditional velocity, same layout
     * @return the guided velocity (a new array)
     */
    public static float[] combine(float[] cond, float[] uncond, float scale, int channels) {
        if (cond.length != uncond.length || cond.length % channels != 0) {
            throw new IllegalArgumentException("cond/uncond sizes " + cond.length + "/" + uncond.length
                    + " do not match " + channels + " channels");
        }
        float[] out = new float[cond.length];
        for (int t = 0; t < cond.length; t += channels) {
            double condSq = 0;
            double combSq = 0;
            for (int c = t; c < t + channels; c++) {
                out[c] = uncond[c] + scale * (cond[c] - uncond[c]);
                condSq += (double) cond[c] * cond[c];
                combSq += (double) out[c] * out[c];
            }
            float ratio = (float) (Math.sqrt(condSq) / Math.sqrt(combSq));
            for (int c = t; c < t + channels; c++) {
                out[c] *= ratio;
            }
        }
        return out;
    }
}
