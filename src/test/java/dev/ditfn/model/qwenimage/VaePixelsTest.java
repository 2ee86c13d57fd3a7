package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.engine.DecodedPixels;
import org.junit.jupiter.api.Test;

/** (g) De-normalisation, normalisation and RGB conversion on hand-computed values. */
class VaePixelsTest {

    @Test
    void denormalizeIsPerChannelDivisionByTheReciprocalPlusMean() {
        // [B=1, C=2, T=1, H=1, W=2]; channel 0: std 2, mean 1; channel 1: std 0.5, mean -3
        float[] latents = {1f, -2f, 4f, 0f};
        float[] z = VaePixels.denormalize(latents, new long[] {1, 2, 1, 1, 2}, new float[] {1f, -3f},
                new float[] {2f, 0.5f});
        // 1/(1/2) + 1 = 3, -2/(1/2) + 1 = -3; 4/(1/0.5) - 3 = -1, 0/2 - 3 = -3
        assertArrayEquals(new float[] {3f, -3f, -1f, -3f}, z);
    }

    @Test
    void denormalizeWithBatchAndRealStatistics() {
        QwenImageVaeConfig c = QwenImageVaeConfig.TINY;
        float[] latents = new float[2 * 16 * 3]; // [2, 16, 1, 3]
        for (int i = 0; i < latents.length; i++) {
            latents[i] = 0.25f * (i % 5) - 0.5f;
        }
        float[] z = VaePixels.denormalize(latents, new long[] {2, 16, 1, 3}, c);
        for (int i = 0; i < z.length; i++) {
            int ch = i / 3 % 16;
            // exactly the pipeline's float32 op order: latents / (1 / std) + mean
            float expected = latents[i] / (1f / c.latentsStd()[ch]) + c.latentsMean()[ch];
            assertEquals(expected, z[i], 0f, "index " + i);
        }
        // channel 7 (std 2.0743, mean 1.5508), value -0.5 at flat index 7*3 + 0 = 21 -> 21 % 5 = 1 -> -0.25
        assertEquals(-0.25 * 2.0743 + 1.5508, z[21], 1e-6);
    }

    @Test
    void denormalizeChecksChannels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VaePixels.denormalize(new float[4], new long[] {1, 4, 1, 1}, QwenImageVaeConfig.TINY));
        assertTrue(e.getMessage().contains("4 channels") && e.getMessage().contains("16"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> VaePixels.denormalize(new float[3], new long[] {1, 2, 1, 1}, new float[2], new float[] {1, 1}));
    }

    @Test
    void normalizeIsPerChannelSubtractionThenDivision() {
        // [B=1, C=2, H=1, W=2]; channel 0: mean 1, std 2; channel 1: mean -3, std 0.5
        float[] mu = {3f, -3f, -1f, -3f};
        float[] z = VaePixels.normalize(mu, new long[] {1, 2, 1, 2}, new float[] {1f, -3f}, new float[] {2f, 0.5f});
        // (3-1)/2 = 1, (-3-1)/2 = -2; (-1+3)/0.5 = 4, (-3+3)/0.5 = 0
        assertArrayEquals(new float[] {1f, -2f, 4f, 0f}, z);
    }

    @Test
    void normalizeDividesInFloat32AsThePipelineDoes() {
        QwenImageVaeConfig c = QwenImageVaeConfig.TINY;
        float[] mu = new float[2 * 16 * 1 * 5]; // [2, 16, 1, 1, 5]
        for (int i = 0; i < mu.length; i++) {
            mu[i] = 0.37f * (i % 11) - 1.9f;
        }
        float[] z = VaePixels.normalize(mu, new long[] {2, 16, 1, 1, 5}, c);
        int reciprocalDiffers = 0;
        for (int i = 0; i < z.length; i++) {
            int ch = i / 5 % 16;
            // (image_latents - latents_mean) / latents_std on float32 tensors: one rounding per op
            float expected = (mu[i] - c.latentsMean()[ch]) / c.latentsStd()[ch];
            assertEquals(expected, z[i], 0f, "index " + i);
            if (z[i] != (mu[i] - c.latentsMean()[ch]) * (1f / c.latentsStd()[ch])) {
                reciprocalDiffers++;
            }
        }
        assertTrue(reciprocalDiffers > 0, "the data tell division from multiplication by the reciprocal");
        // channel 2 (mean -0.9113, std 2.3275), flat index 2*5 = 10 -> 0.37*10 - 1.9 = 1.8
        assertEquals((1.8 + 0.9113) / 2.3275, z[10], 1e-6);
        // normalize then denormalize gives μ back to float32 rounding
        float[] back = VaePixels.denormalize(z, new long[] {2, 16, 1, 1, 5}, c);
        for (int i = 0; i < mu.length; i++) {
            assertEquals(mu[i], back[i], 1e-6f * (1 + Math.abs(mu[i])), "index " + i);
        }
    }

    @Test
    void normalizeChecksChannels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VaePixels.normalize(new float[4], new long[] {1, 4, 1, 1}, QwenImageVaeConfig.TINY));
        assertTrue(e.getMessage().contains("4 channels") && e.getMessage().contains("16"), e.getMessage());
    }

    @Test
    void toByteMapsMinusOneToZeroAndOneTo255WithClampAndHalfEvenRounding() {
        assertEquals(0, DecodedPixels.toByte(-1f));
        assertEquals(255, DecodedPixels.toByte(1f));
        assertEquals(0, DecodedPixels.toByte(-3f)); // clamped
        assertEquals(255, DecodedPixels.toByte(7f)); // clamped
        assertEquals(128, DecodedPixels.toByte(0f)); // 0.5·255 = 127.5 -> half to even = 128
        assertEquals(64, DecodedPixels.toByte(-0.5f)); // 0.25·255 = 63.75 -> 64
        assertEquals(191, DecodedPixels.toByte(0.5f)); // 0.75·255 = 191.25 -> 191
        assertEquals(76, DecodedPixels.toByte(-0.4f)); // (-0.2f + 0.5f)·255 = 76.5 exactly in float -> 76 (numpy), not 77
        assertEquals(25, DecodedPixels.toByte(-0.8f)); // (-0.4f + 0.5f)·255 = 25.499998 in float -> 25
        assertEquals(0, DecodedPixels.toByte(Float.NaN));
    }

    @Test
    void toRgbIsInterleavedHwc() {
        // [B=1, 3, H=1, W=2]: pixel 0 = (R -1, G 0, B 1), pixel 1 = (R 1, G -0.5, B 0.5)
        float[] image = {-1f, 1f, 0f, -0.5f, 1f, 0.5f};
        byte[] rgb = DecodedPixels.toRgb(image, new long[] {1, 3, 1, 2});
        int[] unsigned = new int[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            unsigned[i] = rgb[i] & 0xFF;
        }
        assertArrayEquals(new int[] {0, 128, 255, 255, 64, 191}, unsigned);
    }

    @Test
    void toRgbBatches() {
        // [B=2, 3, 1, 1]
        byte[] rgb = DecodedPixels.toRgb(new float[] {-1f, -1f, -1f, 1f, 1f, 1f}, new long[] {2, 3, 1, 1});
        assertArrayEquals(new byte[] {0, 0, 0, (byte) 255, (byte) 255, (byte) 255}, rgb);
        assertThrows(IllegalArgumentException.class, () -> DecodedPixels.toRgb(new float[4], new long[] {1, 4, 1, 1}));
    }
}
