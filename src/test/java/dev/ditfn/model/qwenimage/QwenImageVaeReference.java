package dev.ditfn.model.qwenimage;

import dev.ditfn.model.qwenimage.QwenImageVaeConfig.UpBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.Upsample;

import java.util.function.Function;

/**
 * A plain-Java, double-precision reference of the Qwen-Image VAE decoder, written from the spec (§3.1-3.2) in the
 * upstream 5-D layout {@code [B, C, T, H, W]}: causal 3-D convs are computed literally (zero-pad {@code 2·p} frames
 * in front, {@code p} on each spatial side, then a valid 3-D conv with the full stored kernel), so the graph's
 * "last time tap" shortcut is checked, not assumed. Weights come from a lookup by diffusers tensor name.
 */
final class QwenImageVaeReference {
    /** A row-major {@code [n, c, t, h, w]} tensor. */
    record Vol(double[] v, int n, int c, int t, int h, int w) {
        Vol {
            if (v.length != n * c * t * h * w) {
                throw new IllegalArgumentException(v.length + " values for [" + n + "," + c + "," + t + "," + h + ","
                        + w + "]");
            }
        }

        static Vol zeros(int n, int c, int t, int h, int w) {
            return new Vol(new double[n * c * t * h * w], n, c, t, h, w);
        }

        int at(int b, int ch, int f, int y, int x) {
            return (((b * c + ch) * t + f) * h + y) * w + x;
        }
    }

    private final Function<String, double[]> weights;

    QwenImageVaeReference(Function<String, double[]> weights) {
        this.weights = weights;
    }

    // ---- the whole decoder -----------------------------------------------------------------------------

    /** {@code vae.decode(z)} on one frame: post_quant_conv, decoder, clamp to [-1, 1]. */
    Vol decode(QwenImageVaeConfig config, Vol z) {
        Vol x = causalConv3d(z, "post_quant_conv", config.zDim(), 1);
        int mid = config.decoderMidDim();
        x = causalConv3d(x, "decoder.conv_in", mid, 3);
        x = residualBlock(x, "decoder.mid_block.resnets.0", mid);
        x = attentionBlock(x, "decoder.mid_block.attentions.0");
        x = residualBlock(x, "decoder.mid_block.resnets.1", mid);
        for (UpBlock b : config.decoderUpBlocks()) {
            String p = "decoder.up_blocks." + b.index();
            for (int r = 0; r < b.resnets(); r++) {
                x = residualBlock(x, p + ".resnets." + r, b.outDim());
            }
            if (b.upsample() != Upsample.NONE) {
                x = upsample(x, p + ".upsamplers.0");
            }
        }
        x = silu(rmsNorm(x, weights.apply("decoder.norm_out.gamma")));
        x = causalConv3d(x, "decoder.conv_out", QwenImageVaeConfig.IMAGE_CHANNELS, 3);
        double[] out = x.v().clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.max(-1, Math.min(1, out[i]));
        }
        return new Vol(out, x.n(), x.c(), x.t(), x.h(), x.w());
    }

    // ---- blocks ----------------------------------------------------------------------------------------

    /** {@code conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))) + shortcut(x)}; shortcut = 1×1×1 causal conv iff in ≠ out. */
    Vol residualBlock(Vol x, String prefix, int out) {
        Vol h = x.c() == out ? x : causalConv3d(x, prefix + ".conv_shortcut", out, 1);
        Vol y = silu(rmsNorm(x, weights.apply(prefix + ".norm1.gamma")));
        y = causalConv3d(y, prefix + ".conv1", out, 3);
        y = silu(rmsNorm(y, weights.apply(prefix + ".norm2.gamma")));
        y = causalConv3d(y, prefix + ".conv2", out, 3);
        return add(y, h);
    }

    /** Per frame, one head: {@code x + proj(softmax(q·kᵀ/√C)·v)}, {@code q,k,v} = thirds of {@code to_qkv(norm(x))}. */
    Vol attentionBlock(Vol x, String prefix) {
        int c = x.c();
        int s = x.h() * x.w();
        Vol u = rmsNorm(x, weights.apply(prefix + ".norm.gamma"));
        double[] wqkv = weights.apply(prefix + ".to_qkv.weight");
        double[] bqkv = weights.apply(prefix + ".to_qkv.bias");
        double[] wp = weights.apply(prefix + ".proj.weight");
        double[] bp = weights.apply(prefix + ".proj.bias");
        Vol out = Vol.zeros(x.n(), c, x.t(), x.h(), x.w());
        for (int b = 0; b < x.n(); b++) {
            for (int f = 0; f < x.t(); f++) {
                // qkv[p][j] for pixel p, channel j of 3C (1×1 conv)
                double[][] qkv = new double[s][3 * c];
                for (int p = 0; p < s; p++) {
                    for (int j = 0; j < 3 * c; j++) {
                        double acc = bqkv[j];
                        for (int i = 0; i < c; i++) {
                            acc += wqkv[j * c + i] * u.v()[u.at(b, i, f, p / x.w(), p % x.w())];
                        }
                        qkv[p][j] = acc;
                    }
                }
                double scale = 1 / Math.sqrt(c);
                double[][] o = new double[s][c];
                for (int p = 0; p < s; p++) {
                    double[] logits = new double[s];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int q = 0; q < s; q++) {
                        double dot = 0;
                        for (int i = 0; i < c; i++) {
                            dot += qkv[p][i] * qkv[q][c + i];
                        }
                        logits[q] = dot * scale;
                        max = Math.max(max, logits[q]);
                    }
                    double sum = 0;
                    for (int q = 0; q < s; q++) {
                        logits[q] = Math.exp(logits[q] - max);
                        sum += logits[q];
                    }
                    for (int q = 0; q < s; q++) {
                        for (int i = 0; i < c; i++) {
                            o[p][i] += logits[q] / sum * qkv[q][2 * c + i];
                        }
                    }
                }
                for (int p = 0; p < s; p++) {
                    for (int j = 0; j < c; j++) {
                        double acc = bp[j];
                        for (int i = 0; i < c; i++) {
                            acc += wp[j * c + i] * o[p][i];
                        }
                        int at = x.at(b, j, f, p / x.w(), p % x.w());
                        out.v()[at] = x.v()[at] + acc;
                    }
                }
            }
        }
        return out;
    }

    /**
     * upsample2d/upsample3d on a first chunk: per frame nearest-exact ×2 (source index {@code ⌊(i + 0.5)/2⌋}), then
     * {@code resample.1}: Conv2d 3×3, padding 1, {@code C → C/2}.
     */
    Vol upsample(Vol x, String prefix) {
        int oh = 2 * x.h();
        int ow = 2 * x.w();
        Vol up = Vol.zeros(x.n(), x.c(), x.t(), oh, ow);
        for (int b = 0; b < x.n(); b++) {
            for (int ch = 0; ch < x.c(); ch++) {
                for (int f = 0; f < x.t(); f++) {
                    for (int y = 0; y < oh; y++) {
                        int sy = Math.min((int) Math.floor((y + 0.5) * x.h() / oh), x.h() - 1);
                        for (int xx = 0; xx < ow; xx++) {
                            int sx = Math.min((int) Math.floor((xx + 0.5) * x.w() / ow), x.w() - 1);
                            up.v()[up.at(b, ch, f, y, xx)] = x.v()[x.at(b, ch, f, sy, sx)];
                        }
                    }
                }
            }
        }
        double[] w = weights.apply(prefix + ".resample.1.weight");
        double[] bias = weights.apply(prefix + ".resample.1.bias");
        return conv(up, w, bias, bias.length, 1, 3, 3, 0, 1);
    }

    /** {@code QwenImageRMS_norm}: {@code x / max(‖x‖₂ over channels, 1e-12) · √C · γ_c}. */
    static Vol rmsNorm(Vol x, double[] gamma) {
        if (gamma.length != x.c()) {
            throw new IllegalArgumentException("gamma has " + gamma.length + " values for " + x.c() + " channels");
        }
        Vol out = Vol.zeros(x.n(), x.c(), x.t(), x.h(), x.w());
        double root = Math.sqrt(x.c());
        for (int b = 0; b < x.n(); b++) {
            for (int f = 0; f < x.t(); f++) {
                for (int y = 0; y < x.h(); y++) {
                    for (int xx = 0; xx < x.w(); xx++) {
                        double ss = 0;
                        for (int ch = 0; ch < x.c(); ch++) {
                            double v = x.v()[x.at(b, ch, f, y, xx)];
                            ss += v * v;
                        }
                        double denom = Math.max(Math.sqrt(ss), 1e-12);
                        for (int ch = 0; ch < x.c(); ch++) {
                            int at = x.at(b, ch, f, y, xx);
                            out.v()[at] = x.v()[at] / denom * root * gamma[ch];
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * {@code QwenImageCausalConv3d} with cubic kernel {@code k}, padding {@code p = k/2}: zero-pad {@code 2p} frames
     * in front (none behind) and {@code p} on each spatial side, then a valid conv with the stored
     * {@code [out, in, k, k, k]} kernel.
     */
    Vol causalConv3d(Vol x, String prefix, int out, int k) {
        int p = k / 2;
        return conv(x, weights.apply(prefix + ".weight"), weights.apply(prefix + ".bias"), out, k, k, k, 2 * p, p);
    }

    /**
     * Stride-1 3-D conv, kernel {@code [out, in, kt, kh, kw]}, {@code frontPad} zero frames before the input, none
     * after, {@code pad} zeros on each side of H and W.
     */
    private static Vol conv(Vol x, double[] w, double[] bias, int out, int kt, int kh, int kw, int frontPad,
            int pad) {
        int ot = x.t() + frontPad - kt + 1;
        int oh = x.h() + 2 * pad - kh + 1;
        int ow = x.w() + 2 * pad - kw + 1;
        int in = x.c();
        if (w.length != out * in * kt * kh * kw) {
            throw new IllegalArgumentException("kernel has " + w.length + " values for [" + out + "," + in + "," + kt
                    + "," + kh + "," + kw + "]");
        }
        Vol y = Vol.zeros(x.n(), out, ot, oh, ow);
        for (int b = 0; b < x.n(); b++) {
            for (int o = 0; o < out; o++) {
                for (int f = 0; f < ot; f++) {
                    for (int yy = 0; yy < oh; yy++) {
                        for (int xx = 0; xx < ow; xx++) {
                            double acc = bias[o];
                            for (int i = 0; i < in; i++) {
                                for (int dt = 0; dt < kt; dt++) {
                                    int sf = f + dt - frontPad;
                                    if (sf < 0 || sf >= x.t()) {
                                        continue;
                                    }
                                    for (int dy = 0; dy < kh; dy++) {
                                        int sy = yy + dy - pad;
                                        if (sy < 0 || sy >= x.h()) {
                                            continue;
                                        }
                                        for (int dx = 0; dx < kw; dx++) {
                                            int sx = xx + dx - pad;
                                            if (sx < 0 || sx >= x.w()) {
                                                continue;
                                            }
                                            acc += w[(((o * in + i) * kt + dt) * kh + dy) * kw + dx]
                                                    * x.v()[x.at(b, i, sf, sy, sx)];
                                        }
                                    }
                                }
                            }
                            y.v()[y.at(b, o, f, yy, xx)] = acc;
                        }
                    }
                }
            }
        }
        return y;
    }

    static Vol silu(Vol x) {
        double[] out = new double[x.v().length];
        for (int i = 0; i < out.length; i++) {
            double v = x.v()[i];
            out[i] = v / (1 + Math.exp(-v));
        }
        return new Vol(out, x.n(), x.c(), x.t(), x.h(), x.w());
    }

    private static Vol add(Vol a, Vol b) {
        double[] out = new double[a.v().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.v()[i] + b.v()[i];
        }
        return new Vol(out, a.n(), a.c(), a.t(), a.h(), a.w());
    }
}
