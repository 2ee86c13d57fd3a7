package dev.ditfn.model.qwenimage;

import java.util.Arrays;

/**
 * De-normalising the DiT's latents before the Qwen-Image VAE decoder (spec §3.4), and normalising the encoder's
 * posterior mean for the DiT (spec B2). Float32 arithmetic in the order the diffusers pipelines use, so results match
 * them bit for bit for fp32 latents.
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
        int perChannel = checkedPerChannel(latents, shape, latentsMean, latentsStd);
        int channels = (int) shape[1];
        float[] recip = new float[channels];
        for (int c = 0; c < channels; c++) {
            recip[c] = 1f / latentsStd[c];
        }
        float[] z = new float[latents.length];
        for (int i = 0; i < z.length; i++) {
            int c = i / perChannel % channels;
            z[i] = latents[i] / recip[c] + latentsMean[c];
        }
        return z;
    }

    /** {@link #denormalize(float[], long[], float[], float[])} with the statistics of {@code config}. */
    public static float[] denormalize(float[] latents, long[] shape, QwenImageVaeConfig config) {
        return denormalize(latents, shape, config.latentsMean(), config.latentsStd());
    }

    /**
     * The VAE encoder's posterior mean as the DiT sees it (spec B2; diffusers {@code QwenImageEditPipeline.
     * _encode_vae_image}): {@code (μ - mean) / std} per channel, one float32 subtraction then one float32 division
     * (not a multiplication by the reciprocal), as the pipeline computes it on float32 latents. {@code mu} is
     * row-major {@code [B, C, *spatial]} (e.g. {@link QwenImageVaeEncoder#OUTPUT}); a new array is returned.
     *
     * @param shape the shape of {@code mu}; {@code shape[1]} must equal the statistics' length
     */
    public static float[] normalize(float[] mu, long[] shape, float[] latentsMean, float[] latentsStd) {
        int perChannel = checkedPerChannel(mu, shape, latentsMean, latentsStd);
        int channels = (int) shape[1];
        float[] z = new float[mu.length];
        for (int i = 0; i < z.length; i++) {
            int c = i / perChannel % channels;
            z[i] = (mu[i] - latentsMean[c]) / latentsStd[c];
        }
        return z;
    }

    /** {@link #normalize(float[], long[], float[], float[])} with the statistics of {@code config}. */
    public static float[] normalize(float[] mu, long[] shape, QwenImageVaeConfig config) {
        return normalize(mu, shape, config.latentsMean(), config.latentsStd());
    }

    /** Checks {@code values} against {@code shape} and the statistics; returns the values per (batch, channel). */
    private static int checkedPerChannel(float[] values, long[] shape, float[] latentsMean, float[] latentsStd) {
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
        if (n != values.length) {
            throw new IllegalArgumentException(values.length + " latent values for shape " + Arrays.toString(shape));
        }
        return (int) (n / Math.max(1, shape[0] * shape[1]));
    }
}
