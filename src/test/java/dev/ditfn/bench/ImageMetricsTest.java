package dev.ditfn.bench;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageMetricsTest {

    private static BufferedImage noise(int w, int h, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        return img;
    }

    private static BufferedImage flat(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    @Test
    void psnrOfIdenticalImagesIsInfinite() {
        BufferedImage a = noise(16, 16, 1);
        assertEquals(Double.POSITIVE_INFINITY, ImageMetrics.psnr(a, a));
    }

    @Test
    void psnrOfHandComputedMse() {
        // red channel differs by 10 everywhere, green and blue equal: MSE = 100 / 3
        BufferedImage a = flat(4, 4, 0x204060);
        BufferedImage b = flat(4, 4, 0x2A4060);
        double expected = 10 * Math.log10(255.0 * 255.0 / (100.0 / 3));
        assertEquals(expected, ImageMetrics.psnr(a, b), 1e-12);
    }

    @Test
    void ssimOfIdenticalImagesIsOne() {
        BufferedImage a = noise(32, 32, 2);
        assertEquals(1.0, ImageMetrics.ssim(a, a), 1e-12);
    }

    @Test
    void ssimOfShiftedImageIsBelowOne() {
        BufferedImage a = noise(32, 32, 3);
        BufferedImage shifted = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                shifted.setRGB(x, y, a.getRGB((x + 1) % 32, y));
            }
        }
        double s = ImageMetrics.ssim(a, shifted);
        assertTrue(s < 0.5, "a one-pixel shift of noise decorrelates it, SSIM " + s);
        // a uniform brightness offset keeps structure: SSIM below 1, but high
        BufferedImage dark = flat(32, 32, 0x404040);
        BufferedImage light = flat(32, 32, 0x505050);
        double flatSsim = ImageMetrics.ssim(dark, light);
        assertTrue(flatSsim < 1 && flatSsim > 0.9, "offset SSIM " + flatSsim);
    }
}
