package dev.ditfn.engine;

import java.util.SplittableRandom;

/**
 * Latent noise, and the 2×2 packing of Qwen-Image (and Flux-style DiTs) as a {@link LatentLayout}.
 *
 * <p>Noise: {@code new SplittableRandom(seed).nextGaussian()} (Java 17's {@code RandomGenerator} algorithm),
 * drawn as float32 in unpacked {@code [channels, h, w]} order. Same seed and size give the same latents on every
 * JVM, so the same request gives the same image; it does not reproduce torch's generator.
 *
 * <p>Packing: latent pixel {@code (ch, 2r+dy, 2c+dx)} goes to token {@code r·(w/2) + c}, channel
 * {@code ch·4 + dy·2 + dx}.
 */
public record Latents(int channels, int height, int width) implements LatentLayout {

    public Latents {
        checkEven(height, width);
    }

    @Override
    public int tokens() {
        return (height / 2) * (width / 2);
    }

    @Override
    public int tokenChannels() {
        return 4 * channels;
    }

    @Override
    public float[] pack(float[] latents) {
        return pack(latents, channels, height, width);
    }

    @Override
    public float[] unpack(float[] tokens) {
        return unpack(tokens, channels, height, width);
    }

    public static float[] noise(long seed, int channels, int h, int w) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] z = new float[channels * h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) random.nextGaussian();
        }
        return z;
    }

    /** {@code [C, h, w]} to {@code [(h/2)(w/2), 4C]}. */
    public static float[] pack(float[] z, int channels, int h, int w) {
        return permute(z, channels, h, w, true);
    }

    /** The exact inverse of {@link #pack}. */
    public static float[] unpack(float[] packed, int channels, int h, int w) {
        return permute(packed, channels, h, w, false);
    }

    private static float[] permute(float[] in, int channels, int h, int w, boolean pack) {
        checkEven(h, w);
        checkSize(in, channels * h * w);
        float[] out = new float[in.length];
        int w2 = w / 2;
        for (int ch = 0; ch < channels; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int unpacked = (ch * h + y) * w + x;
                    int packed = ((y / 2) * w2 + x / 2) * channels * 4 + ch * 4 + (y % 2) * 2 + (x % 2);
                    if (pack) {
                        out[packed] = in[unpacked];
                    } else {
                        out[unpacked] = in[packed];
                    }
                }
            }
        }
        return out;
    }

    private static void checkEven(int h, int w) {
        if (h % 2 != 0 || w % 2 != 0) {
            throw new IllegalArgumentException("latent size " + h + "x" + w + " must be even to pack 2x2");
        }
    }

    private static void checkSize(float[] a, int expected) {
        if (a.length != expected) {
            throw new IllegalArgumentException("expected " + expected + " latent values, got " + a.length);
        }
    }
}
