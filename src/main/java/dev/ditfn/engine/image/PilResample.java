package dev.ditfn.engine.image;

/**
 * PIL's {@code Image.resize} for 8-bit RGB with {@code LANCZOS} or {@code BICUBIC}, replicating
 * Pillow's {@code libImaging/Resample.c} ({@code ImagingResample}, 8 bits per channel):
 * <ol>
 *   <li>per output pixel, a kernel over input pixels {@code [xmin, xmin + n)} with
 *       {@code center = (x + 0.5)·scale}, {@code support = filterSupport·max(scale, 1)},
 *       {@code xmin = (int)(center − support + 0.5)} clamped to 0, {@code xmax = (int)(center +
 *       support + 0.5)} clamped to the input size, weights {@code f((i + xmin − center + 0.5) /
 *       max(scale, 1))} in double, normalised by their sum;</li>
 *   <li>weights to fixed point with {@code PRECISION_BITS = 22}, rounded half away from zero;</li>
 *   <li>a horizontal pass (only over the input rows the vertical pass reads) into an 8-bit
 *       intermediate, then a vertical pass; each sum starts at {@code 1 << 21}, is shifted right
 *       22 bits and clipped to 0..255. A pass whose size does not change is skipped.</li>
 * </ol>
 * Lanczos is {@code sinc(x)·sinc(x/3)} on {@code [−3, 3)}; bicubic is Keys' cubic with
 * {@code a = −0.5}, support 2.
 */
public final class PilResample {

    /** The PIL filters the Qwen-Image-Edit path uses. */
    public enum Filter {
        /** {@code Image.LANCZOS} (diffusers' {@code VaeImageProcessor.resize}). */
        LANCZOS(3.0),
        /** {@code Image.BICUBIC} (the Qwen2-VL image processor's resample 3). */
        BICUBIC(2.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            if (this == LANCZOS) {
                return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
            }
            final double a = -0.5;
            if (x < 0.0) {
                x = -x;
            }
            if (x < 1.0) {
                return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            }
            if (x < 2.0) {
                return (((x - 5) * x + 8) * x - 4) * a;
            }
            return 0.0;
        }

        private static double sinc(double x) {
            if (x == 0.0) {
                return 1.0;
            }
            x = x * Math.PI;
            return Math.sin(x) / x;
        }
    }

    static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResample() {
    }

    /** {@code image.resize((width, height), filter)} as PIL computes it. */
    public static RgbImage resize(RgbImage image, int width, int height, Filter filter) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive: " + width + "x" + height);
        }
        int inW = image.width();
        int inH = image.height();
        if (width == inW && height == inH) {
            return new RgbImage(width, height, image.rgb().clone());
        }
        Kernels horiz = Kernels.of(inW, width, filter);
        Kernels vert = Kernels.of(inH, height, filter);
        byte[] src = image.rgb();
        int rows = inH;
        if (width != inW) {
            int first = vert.bounds[0];
            int last = vert.bounds[(height - 1) * 2] + vert.bounds[(height - 1) * 2 + 1];
            rows = last - first;
            src = horizontal(src, inW, first, rows, width, horiz);
            for (int i = 0; i < height; i++) {
                vert.bounds[i * 2] -= first;
            }
        }
        if (height != inH) {
            src = vertical(src, width, height, vert);
        } else if (rows != height) {
            throw new IllegalStateException("row bounds mismatch");
        }
        return new RgbImage(width, height, src);
    }

    private static byte[] horizontal(byte[] in, int inW, int firstRow, int rows, int outW, Kernels k) {
        byte[] out = new byte[rows * outW * 3];
        int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < rows; y++) {
            int rowBase = (y + firstRow) * inW * 3;
            for (int x = 0; x < outW; x++) {
                int xmin = k.bounds[x * 2];
                int n = k.bounds[x * 2 + 1];
                int kb = x * k.size;
                int s0 = half;
                int s1 = half;
                int s2 = half;
                for (int i = 0; i < n; i++) {
                    int p = rowBase + (xmin + i) * 3;
                    int c = k.coeffs[kb + i];
                    s0 += (in[p] & 0xff) * c;
                    s1 += (in[p + 1] & 0xff) * c;
                    s2 += (in[p + 2] & 0xff) * c;
                }
                int o = (y * outW + x) * 3;
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
            }
        }
        return out;
    }

    private static byte[] vertical(byte[] in, int w, int outH, Kernels k) {
        byte[] out = new byte[outH * w * 3];
        int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < outH; y++) {
            int ymin = k.bounds[y * 2];
            int n = k.bounds[y * 2 + 1];
            int kb = y * k.size;
            for (int x = 0; x < w; x++) {
                int s0 = half;
                int s1 = half;
                int s2 = half;
                for (int i = 0; i < n; i++) {
                    int p = ((ymin + i) * w + x) * 3;
                    int c = k.coeffs[kb + i];
                    s0 += (in[p] & 0xff) * c;
                    s1 += (in[p + 1] & 0xff) * c;
                    s2 += (in[p + 2] & 0xff) * c;
                }
                int o = (y * w + x) * 3;
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
            }
        }
        return out;
    }

    private static byte clip8(int sum) {
        int v = sum >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** Pillow's {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for one axis. */
    static final class Kernels {
        final int size;
        final int[] bounds;
        final int[] coeffs;

        private Kernels(int size, int[] bounds, int[] coeffs) {
            this.size = size;
            this.bounds = bounds;
            this.coeffs = coeffs;
        }

        static Kernels of(int inSize, int outSize, Filter filter) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            int[] coeffs = new int[outSize * ksize];
            double[] k = new double[ksize];
            double ss = 1.0 / filterScale;
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double w = filter.weight((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    double w = ww != 0.0 ? k[x] / ww : k[x];
                    coeffs[xx * ksize + x] = w < 0
                            ? (int) (-0.5 + w * (1 << PRECISION_BITS))
                            : (int) (0.5 + w * (1 << PRECISION_BITS));
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Kernels(ksize, bounds, coeffs);
        }
    }
}
