package dev.ditfn.engine;

import java.util.Arrays;

/**
 * A VAE decoder's output to 8-bit RGB as diffusers' {@code VaeImageProcessor.postprocess} does it (every family's
 * decoder gives {@code [-1, 1]}): float32 arithmetic, so results match it bit for bit for fp32 images.
 */
public final class DecodedPixels {
    private DecodedPixels() {
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
