package dev.ditfn.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LatentsTest {

    @Test
    void packPlacesEachPixelAtItsTokenAndChannel() {
        int c = 2;
        int h = 4;
        int w = 6;
        float[] z = new float[c * h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = i;
        }
        float[] p = Latents.pack(z, c, h, w);
        // pixel (ch=1, y=3, x=4): token (1*3 + 2) = 5, feature 1*4 + 1*2 + 0 = 6
        assertEquals(z[(1 * h + 3) * w + 4], p[5 * c * 4 + 6]);
        // pixel (ch=0, y=0, x=1): token 0, feature 1
        assertEquals(z[1], p[1]);
    }

    @Test
    void unpackInvertsPack() {
        float[] z = Latents.noise(7, 16, 8, 10);
        assertArrayEquals(z, Latents.unpack(Latents.pack(z, 16, 8, 10), 16, 8, 10));
    }

    @Test
    void noiseIsDeterministicPerSeedAndStandardNormal() {
        float[] a = Latents.noise(123, 16, 32, 32);
        assertArrayEquals(a, Latents.noise(123, 16, 32, 32));
        assertFalse(java.util.Arrays.equals(a, Latents.noise(124, 16, 32, 32)));
        double mean = 0;
        double sq = 0;
        for (float v : a) {
            mean += v;
            sq += v * v;
        }
        mean /= a.length;
        assertEquals(0, mean, 0.05);
        assertEquals(1, sq / a.length - mean * mean, 0.05);
    }

    @Test
    void oddSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Latents.pack(new float[15], 1, 3, 5));
    }
}
