package dev.ditfn.testing;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.weights.WeightStore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToIntFunction;

/**
 * Plain-Java reference implementations, in double precision, of the math the ONNX graphs compute; the model
 * references build on them. Tensors are flat row-major arrays; shapes are passed explicitly. Nothing here uses ORT.
 */
public final class ReferenceMath {
    private ReferenceMath() {
    }

    // ---- shapes and conversions ------------------------------------------------------------------------

    public static long numel(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The largest {@code |a[i] - b[i]|}, e.g. to show a deliberately wrong variant is far outside a tolerance. */
    public static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " values against " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** {@code ‖actual − expected‖₂ / ‖expected‖₂}: how far an approximation (e.g. quantized weights) lands. */
    public static double relativeL2(double[] expected, double[] actual) {
        if (expected.length != actual.length) {
            throw new IllegalArgumentException(expected.length + " values against " + actual.length);
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }

    public static double[] d(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    public static float[] f(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) x[i];
        }
        return out;
    }

    /** A stored weight widened to double (fp32, fp16 and bf16 files): exactly the values the graph reads. */
    public static double[] weight(WeightStore store, String name) {
        TensorSpec spec = store.spec(name);
        ByteBuffer data = store.data(name).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[Math.toIntExact(spec.elementCount())];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (spec.type()) {
                case FLOAT32 -> data.getFloat(i * 4);
                case FLOAT16 -> Fp16Conversions.fp16ToFloat(data.getShort(i * 2));
                case BFLOAT16 -> Fp16Conversions.bf16ToFloat(data.getShort(i * 2));
                default -> throw new IllegalArgumentException(name + " has type " + spec.type());
            };
        }
        return out;
    }

    private static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    private static int[] ints(long[] shape) {
        int[] out = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            out[i] = Math.toIntExact(shape[i]);
        }
        return out;
    }

    /** Writes the multi-index of flat position {@code flat} in {@code shape} into {@code idx}. */
    private static void unravel(int flat, int[] shape, int[] idx) {
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    public static double[] map(double[] x, DoubleUnaryOperator f) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = f.applyAsDouble(x[i]);
        }
        return out;
    }

    public static double[] add(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("sizes differ: " + a.length + " vs " + b.length);
        }
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    public static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    public static double silu(double x) {
        return x * sigmoid(x);
    }

    /** GELU, tanh approximation: {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    /** Exact GELU, {@code 0.5·x·(1 + erf(x/√2))} (torch's {@code nn.GELU()}). */
    public static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * The error function to double precision: {@code 2/√π · e^(−z²) · Σ 2ⁿ z^(2n+1) / (1·3···(2n+1))}, a series of
     * positive terms (no cancellation); {@code ±1} beyond {@code |z| = 6}, where {@code erfc < 3e-17}.
     */
    public static double erf(double z) {
        double a = Math.abs(z);
        if (a > 6) {
            return Math.signum(z);
        }
        double term = a;
        double sum = a;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * a * a / (2 * n + 1);
            sum += term;
        }
        return Math.signum(z) * 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum;
    }

    public static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    // ---- row views ---------------------------------------------------------------------------------------

    /** Rows of equal width concatenated into one row-major array. */
    public static double[] flatten(double[][] rows) {
        int width = rows.length == 0 ? 0 : rows[0].length;
        double[] out = new double[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != width) {
                throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " values, not " + width);
            }
            System.arraycopy(rows[r], 0, out, r * width, width);
        }
        return out;
    }

    /** A row-major array cut into rows of {@code width} values (copies). */
    public static double[][] unflatten(double[] x, int width) {
        if (width <= 0 || x.length % width != 0) {
            throw new IllegalArgumentException(x.length + " values are not rows of " + width);
        }
        double[][] out = new double[x.length / width][];
        for (int r = 0; r < out.length; r++) {
            out[r] = Arrays.copyOfRange(x, r * width, (r + 1) * width);
        }
        return out;
    }

    // ---- linear algebra --------------------------------------------------------------------------------

    /** {@code [m, k] · [k, n]}. */
    public static double[] matmul(double[] a, double[] b, int m, int k, int n) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[i * k + p] * b[p * n + j];
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    /** N-d transpose: output axis {@code i} is input axis {@code perm[i]}. */
    public static double[] transpose(double[] x, long[] shape, int... perm) {
        int[] in = ints(shape);
        int[] inStrides = strides(in);
        int[] outShape = new int[in.length];
        for (int i = 0; i < perm.length; i++) {
            outShape[i] = in[perm[i]];
        }
        return gather(x, outShape, idx -> {
            int src = 0;
            for (int i = 0; i < perm.length; i++) {
                src += idx[i] * inStrides[perm[i]];
            }
            return src;
        });
    }

    /** {@code x · Wᵀ + b} for {@code x [rows, in]}, {@code W [out, in]}; {@code bias} may be null. */
    public static double[] linear(double[] x, double[] w, double[] bias, int rows, int in, int out) {
        if (x.length != rows * in || w.length != out * in) {
            throw new IllegalArgumentException("linear: " + x.length + " inputs and " + w.length + " weights for [" + rows
                    + ", " + in + "] · [" + out + ", " + in + "]ᵀ");
        }
        double[] y = matmul(x, transpose(w, new long[] {out, in}, 1, 0), rows, in, out);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    y[r * out + o] += bias[o];
                }
            }
        }
        return y;
    }

    // ---- normalisation ---------------------------------------------------------------------------------

    /** Softmax over the last axis of {@code [rows, dim]}; a row that is all {@code -inf} (nothing visible) gives 0s. */
    public static double[] softmax(double[] x, int rows, int dim) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < dim; i++) {
                max = Math.max(max, x[r * dim + i]);
            }
            if (max == Double.NEGATIVE_INFINITY) {
                continue;
            }
            double sum = 0;
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] = Math.exp(x[r * dim + i] - max);
                sum += out[r * dim + i];
            }
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] /= sum;
            }
        }
        return out;
    }

    /** LayerNorm over the last axis of {@code [rows, dim]} (biased variance); null scale/bias = none. */
    public static double[] layerNorm(double[] x, int rows, int dim, double[] scale, double[] bias, double eps) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < dim; i++) {
                mean += x[r * dim + i];
            }
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double c = x[r * dim + i] - mean;
                var += c * c;
            }
            var /= dim;
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < dim; i++) {
                double y = (x[r * dim + i] - mean) * inv;
                y = y * (scale == null ? 1 : scale[i]) + (bias == null ? 0 : bias[i]);
                out[r * dim + i] = y;
            }
        }
        return out;
    }

    /** RMSNorm over the last axis of {@code [rows, dim]}: {@code x / √(mean(x²) + eps) · w}; w may be null. */
    public static double[] rmsNorm(double[] x, int rows, int dim, double[] w, double eps) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int i = 0; i < dim; i++) {
                ms += x[r * dim + i] * x[r * dim + i];
            }
            double inv = 1 / Math.sqrt(ms / dim + eps);
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] = x[r * dim + i] * inv * (w == null ? 1 : w[i]);
            }
        }
        return out;
    }

    /**
     * GroupNorm on {@code [batch, channels, spatial]} (spatial flattened): per sample and group of
     * {@code channels/groups} channels, biased variance, then per-channel scale/bias (null = none).
     */
    public static double[] groupNorm(double[] x, int batch, int channels, int spatial, int groups, double[] scale,
            double[] bias, double eps) {
        int perGroup = channels / groups * spatial;
        double[] out = new double[x.length];
        for (int b = 0; b < batch; b++) {
            for (int gi = 0; gi < groups; gi++) {
                int base = (b * groups + gi) * perGroup;
                double mean = 0;
                for (int i = 0; i < perGroup; i++) {
                    mean += x[base + i];
                }
                mean /= perGroup;
                double var = 0;
                for (int i = 0; i < perGroup; i++) {
                    double c = x[base + i] - mean;
                    var += c * c;
                }
                var /= perGroup;
                double inv = 1 / Math.sqrt(var + eps);
                for (int i = 0; i < perGroup; i++) {
                    int c = (base + i) / spatial % channels;
                    double y = (x[base + i] - mean) * inv;
                    out[base + i] = y * (scale == null ? 1 : scale[c]) + (bias == null ? 0 : bias[c]);
                }
            }
        }
        return out;
    }

    // ---- attention -------------------------------------------------------------------------------------

    /**
     * Scaled-dot-product attention on merged heads: {@code q [B, Sq, H·hd]}, {@code k, v [B, Sk, Hkv·hd]}; query
     * head {@code h} reads kv head {@code h / (H/Hkv)}. {@code bias} (may be null) is additive with shape
     * {@code biasShape = [B or 1, H or 1, Sq, Sk]}; a query whose keys are all {@code -inf} gets 0. Returns
     * {@code [B, Sq, H·hd]}.
     */
    public static double[] attention(double[] q, double[] k, double[] v, int batch, int sq, int sk, int heads,
            int kvHeads, int hd, double[] bias, int[] biasShape) {
        int group = heads / kvHeads;
        double scale = 1 / Math.sqrt(hd);
        double[] out = new double[batch * sq * heads * hd];
        double[] scores = new double[sk];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int kvh = h / group;
                for (int i = 0; i < sq; i++) {
                    for (int j = 0; j < sk; j++) {
                        double s = 0;
                        for (int d = 0; d < hd; d++) {
                            s += q[((b * sq + i) * heads + h) * hd + d] * k[((b * sk + j) * kvHeads + kvh) * hd + d];
                        }
                        s *= scale;
                        if (bias != null) {
                            int bb = biasShape[0] == 1 ? 0 : b;
                            int bh = biasShape[1] == 1 ? 0 : h;
                            s += bias[((bb * biasShape[1] + bh) * sq + i) * sk + j];
                        }
                        scores[j] = s;
                    }
                    double[] p = softmax(scores, 1, sk);
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int j = 0; j < sk; j++) {
                            acc += p[j] * v[((b * sk + j) * kvHeads + kvh) * hd + d];
                        }
                        out[((b * sq + i) * heads + h) * hd + d] = acc;
                    }
                }
            }
        }
        return out;
    }

    // ---- convolution -----------------------------------------------------------------------------------

    public static int convOut(int in, int kernel, int stride, int padBegin, int padEnd) {
        return (in + padBegin + padEnd - kernel) / stride + 1;
    }

    /**
     * 3-D convolution (cross-correlation, group 1, zero padding): {@code x [B, C, T, H, W]},
     * {@code w [O, C, kT, kH, kW]}, {@code bias [O]} or null; {@code pads} = begins (t, h, w) then ends.
     */
    public static double[] conv3d(double[] x, int[] xShape, double[] w, int[] wShape, double[] bias, int[] strides,
            int[] pads) {
        int nb = xShape[0], c = xShape[1], t = xShape[2], h = xShape[3], wd = xShape[4];
        int o = wShape[0], kt = wShape[2], kh = wShape[3], kw = wShape[4];
        int ot = convOut(t, kt, strides[0], pads[0], pads[3]);
        int oh = convOut(h, kh, strides[1], pads[1], pads[4]);
        int ow = convOut(wd, kw, strides[2], pads[2], pads[5]);
        double[] out = new double[nb * o * ot * oh * ow];
        for (int b = 0; b < nb; b++) {
            for (int oc = 0; oc < o; oc++) {
                for (int zt = 0; zt < ot; zt++) {
                    for (int zy = 0; zy < oh; zy++) {
                        for (int zx = 0; zx < ow; zx++) {
                            double s = bias == null ? 0 : bias[oc];
                            for (int ic = 0; ic < c; ic++) {
                                for (int dt = 0; dt < kt; dt++) {
                                    int it = zt * strides[0] - pads[0] + dt;
                                    if (it < 0 || it >= t) {
                                        continue;
                                    }
                                    for (int dy = 0; dy < kh; dy++) {
                                        int iy = zy * strides[1] - pads[1] + dy;
                                        if (iy < 0 || iy >= h) {
                                            continue;
                                        }
                                        for (int dx = 0; dx < kw; dx++) {
                                            int ix = zx * strides[2] - pads[2] + dx;
                                            if (ix < 0 || ix >= wd) {
                                                continue;
                                            }
                                            s += x[(((b * c + ic) * t + it) * h + iy) * wd + ix]
                                                    * w[(((oc * c + ic) * kt + dt) * kh + dy) * kw + dx];
                                        }
                                    }
                                }
                            }
                            out[(((b * o + oc) * ot + zt) * oh + zy) * ow + zx] = s;
                        }
                    }
                }
            }
        }
        return out;
    }

    /** 2-D convolution {@code x [B, C, H, W]}, {@code w [O, C, kH, kW]}, symmetric {@code pad}: a 3-D one with T=1. */
    public static double[] conv2d(double[] x, int[] xShape, double[] w, int[] wShape, double[] bias, int stride,
            int pad) {
        return conv3d(x, new int[] {xShape[0], xShape[1], 1, xShape[2], xShape[3]}, w,
                new int[] {wShape[0], wShape[1], 1, wShape[2], wShape[3]}, bias, new int[] {1, stride, stride},
                new int[] {0, pad, pad, 0, pad, pad});
    }

    // ---- data movement ---------------------------------------------------------------------------------

    /** Columns {@code [from, to)} of a row-major matrix with {@code width} columns. */
    public static double[] columns(double[] m, int width, int from, int to) {
        int rows = m.length / width;
        double[] out = new double[rows * (to - from)];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(m, r * width + from, out, r * (to - from), to - from);
        }
        return out;
    }

    /** Constant-zero padding; {@code pads} = all begins then all ends (ONNX order). */
    public static double[] pad(double[] x, long[] shape, long... pads) {
        int r = shape.length;
        int[] in = ints(shape);
        int[] outShape = new int[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = in[i] + (int) pads[i] + (int) pads[i + r];
        }
        int[] inStrides = strides(in);
        return gather(x, outShape, idx -> {
            int src = 0;
            for (int i = 0; i < r; i++) {
                int j = idx[i] - (int) pads[i];
                if (j < 0 || j >= in[i]) {
                    return -1;
                }
                src += j * inStrides[i];
            }
            return src;
        });
    }

    /** Nearest-neighbour upsampling by integer factors per axis: output index {@code i} reads {@code i / f}. */
    public static double[] upsampleNearest(double[] x, long[] shape, int... factors) {
        int[] in = ints(shape);
        int[] outShape = new int[in.length];
        for (int i = 0; i < in.length; i++) {
            outShape[i] = in[i] * factors[i];
        }
        int[] inStrides = strides(in);
        return gather(x, outShape, idx -> {
            int src = 0;
            for (int i = 0; i < in.length; i++) {
                src += idx[i] / factors[i] * inStrides[i];
            }
            return src;
        });
    }

    /** A tensor of {@code outShape} whose element at each multi-index reads {@code x[source(index)]}; -1 reads 0. */
    private static double[] gather(double[] x, int[] outShape, ToIntFunction<int[]> source) {
        double[] out = new double[(int) numel(toLongs(outShape))];
        int[] idx = new int[outShape.length];
        for (int f = 0; f < out.length; f++) {
            unravel(f, outShape, idx);
            int src = source.applyAsInt(idx);
            out[f] = src < 0 ? 0 : x[src];
        }
        return out;
    }

    private static long[] toLongs(int[] shape) {
        return Arrays.stream(shape).asLongStream().toArray();
    }
}
