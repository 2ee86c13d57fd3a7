package dev.ditfn.model.qwenimage;

import java.util.Arrays;

/**
 * De-normalising the DiT's latents before the Qwen-Image VAE decoder (spec §3.4). Float32 arithmetic in the order
 * the diffusers pipeline uses, so results match it bit for bit for fp32 latents.
 */
public final class VaePixels {
    private VaePixels() {
    }

    /**
     * {@code z = latents / (1 / std) + mean} per channel (the pipeline divides by the reciprocal; kept for
     * bit-matching). {@code latents} is row-major {@code [B, C, *spatial]} (e.g. {@code [B, 16, 1, h, w]} or
     * {@code [B, 16, h, w]}); a new array is returned.
     *
     * @param shape the shape of {@code latents}; {@code shape[1]} must equal the statistics' length
     */
    public static float[] denormalize(float[] latents, long[] shape, float[] latentsMean, float[] latentsStd) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("latents shape " + Arrays.toString(shape) + " has no channel axis");
        }
        if (latentsMean.length != latentsStd.length || shape[1] != latentsMean.length) {
            throw new IllegalArgumentException("latents shape " + Arrays.toString(shape) + " has " + shape[1]
                    + " channels but latents_mean/latents_std have " + latentsMean.length + "/" + latentsStd.length
                    + " entries");
        }
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        if (n != latents.length) {
            throw new IllegalArgumentException(latents.length + " latent values for shape " + Arrays.toString(shape));
        }
        int channels = (int) shape[1];
        long perChannel = n / Math.max(1, shape[0] * channels);
        float[] recip = new float[channels];
        for (int c = 0; c < channels; c++) {
            recip[c] = 1f / latentsStd[c];
        }
        float[] z = new float[latents.length];
        for (int i = 0; i < z.length; i++) {
            int c = (int) (i / perChannel % channels);
            z[i] = latents[i] / recip[c] + latentsMean[c];
        }
        return z;
    }

    /** {@link #denormalize(float[], long[], float[], float[])} with the statistics of {@code config}. */
    public static float[] denormalize(float[] latents, long[] shape, QwenImageVaeConfig config) {
        return denormalize(latents, shape, config.latentsMean(), config.latentsStd());
    }
}
