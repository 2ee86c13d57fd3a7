package dev.ditfn.bench;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** Image quality against a reference, and small statistics helpers. */
public final class ImageMetrics {
    private ImageMetrics() {
    }

    /** PSNR in dB over 8-bit RGB; identical images give positive infinity. */
    public static double psnr(BufferedImage a, BufferedImage b) {
        checkSize(a, b);
        double se = 0;
        long n = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    int d = ((p >> shift) & 0xff) - ((q >> shift) & 0xff);
                    se += d * d;
                    n++;
                }
            }
        }
        double mse = se / n;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    /**
     * Mean SSIM on luma (BT.601, 0-255) with the standard 11x11 Gaussian window (sigma 1.5), C1 = (0.01·255)²,
     * C2 = (0.03·255)², over the window positions that fit inside the image (all pixels when it is smaller).
     */
    public static double ssim(BufferedImage a, BufferedImage b) {
        checkSize(a, b);
        int w = a.getWidth();
        int h = a.getHeight();
        double[] x = luma(a);
        double[] y = luma(b);
        int size = Math.min(11, Math.min(w, h));
        double[] g = gaussian(size, 1.5);
        double c1 = Math.pow(0.01 * 255, 2);
        double c2 = Math.pow(0.03 * 255, 2);
        double sum = 0;
        int count = 0;
        for (int oy = 0; oy + size <= h; oy++) {
            for (int ox = 0; ox + size <= w; ox++) {
                double mx = 0;
                double my = 0;
                double xx = 0;
                double yy = 0;
                double xy = 0;
                for (int j = 0; j < size; j++) {
                    for (int i = 0; i < size; i++) {
                        double wt = g[j] * g[i];
                        double p = x[(oy + j) * w + ox + i];
                        double q = y[(oy + j) * w + ox + i];
                        mx += wt * p;
                        my += wt * q;
                        xx += wt * p * p;
                        yy += wt * q * q;
                        xy += wt * p * q;
                    }
                }
                double vx = xx - mx * mx;
                double vy = yy - my * my;
                double cov = xy - mx * my;
                sum += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                count++;
            }
        }
        return sum / count;
    }

    private static double[] gaussian(int size, double sigma) {
        double[] g = new double[size];
        double total = 0;
        for (int i = 0; i < size; i++) {
            double d = i - (size - 1) / 2.0;
            g[i] = Math.exp(-d * d / (2 * sigma * sigma));
            total += g[i];
        }
        for (int i = 0; i < size; i++) {
            g[i] /= total;
        }
        return g;
    }

    private static double[] luma(BufferedImage img) {
        int w = img.getWidth();
        double[] out = new double[w * img.getHeight()];
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < w; x++) {
                int p = img.getRGB(x, y);
                out[y * w + x] = 0.299 * ((p >> 16) & 0xff) + 0.587 * ((p >> 8) & 0xff) + 0.114 * (p & 0xff);
            }
        }
        return out;
    }

    private static void checkSize(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            throw new IllegalArgumentException("image sizes differ: " + a.getWidth() + "x" + a.getHeight() + " vs "
                    + b.getWidth() + "x" + b.getHeight());
        }
    }

    /** The median (upper median for an even count). */
    public static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    public static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

}
