package dev.ditfn.model.qwenimage;

import java.util.Arrays;

/**
 * The plain-Java steps around the VAE decoder graph (spec §3.4, §5.5): de-normalising the DiT's latents before
 * decoding, and turning the decoded {@code [-1, 1]} image into 8-bit RGB. All arithmetic is float32, in the order the
 * diffusers pipeline uses, so results match it bit for bit for fp32 latents.
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

    /**
     * Decoded image {@code [B, 3, H, W]} in [-1, 1] to interleaved 8-bit RGB {@code [B, H, W, 3]}: {@code x·0.5 +
     * 0.5}, clamped to [0, 1], times 255, rounded half to even (numpy {@code round}), as unsigned bytes (read them
     * with {@code & 0xFF}). NaN becomes 0.
     */
    public static byte[] toRgb(float[] image, long[] shape) {
        if (shape.length != 4 || shape[1] != 3) {
            throw new IllegalArgumentException("image shape must be [B, 3, H, W], got " + Arrays.toString(shape));
        }
        int b = Math.toIntExact(shape[0]);
        int h = Math.toIntExact(shape[2]);
        int w = Math.toIntExact(shape[3]);
        int plane = Math.multiplyExact(h, w);
        if ((long) b * 3 * plane != image.length) {
            throw new IllegalArgumentException(image.length + " image values for shape " + Arrays.toString(shape));
        }
        byte[] rgb = new byte[image.length];
        for (int n = 0; n < b; n++) {
            for (int c = 0; c < 3; c++) {
                int src = (n * 3 + c) * plane;
                int dst = n * 3 * plane + c;
                for (int p = 0; p < plane; p++) {
                    rgb[dst + 3 * p] = (byte) toByte(image[src + p]);
                }
            }
        }
        return rgb;
    }

    /** One value of {@link #toRgb}: {@code [-1, 1] → 0..255}. */
    public static int toByte(float x) {
        float unit = x * 0.5f + 0.5f;
        if (!(unit >= 0f)) { // also NaN
            unit = 0f;
        } else if (unit > 1f) {
            unit = 1f;
        }
        return (int) Math.rint(unit * 255f);
    }
}
