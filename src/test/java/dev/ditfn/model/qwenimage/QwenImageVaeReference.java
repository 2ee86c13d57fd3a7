package dev.ditfn.model.qwenimage;

import dev.ditfn.model.qwenimage.QwenImageVaeConfig.UpBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.Upsample;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.WeightStore;

import java.util.Arrays;

/**
 * A plain-Java, double-precision reference of the Qwen-Image VAE decoder, written from the spec (§3.1-3.2) in the
 * upstream 5-D layout {@code [B, C, T, H, W]}: causal 3-D convs are computed literally (zero-pad {@code 2·p} frames
 * in front, {@code p} on each spatial side, then a valid 3-D conv with the full stored kernel), so the graph's
 * "last time tap" shortcut is checked, not assumed. Weights are read by diffusers tensor name.
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

        int at(int b, int ch, int f, int y, int x) {
            return (((b * c + ch) * t + f) * h + y) * w + x;
        }

        long[] shape() {
            return new long[] {n, c, t, h, w};
        }

        /** Other values of this shape. */
        Vol with(double[] values) {
            return new Vol(values, n, c, t, h, w);
        }
    }

    private final WeightStore weights;

    QwenImageVaeReference(WeightStore weights) {
        this.weights = weights;
    }

    private double[] w(String name) {
        return ReferenceMath.weight(weights, name);
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
        x = silu(rmsNorm(x, w("decoder.norm_out.gamma")));
        x = causalConv3d(x, "decoder.conv_out", QwenImageVaeConfig.IMAGE_CHANNELS, 3);
        return x.with(ReferenceMath.map(x.v(), v -> Math.max(-1, Math.min(1, v))));
    }

    // ---- blocks ----------------------------------------------------------------------------------------

    /** {@code conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))) + shortcut(x)}; shortcut = 1×1×1 causal conv iff in ≠ out. */
    Vol residualBlock(Vol x, String prefix, int out) {
        Vol h = x.c() == out ? x : causalConv3d(x, prefix + ".conv_shortcut", out, 1);
        Vol y = silu(rmsNorm(x, w(prefix + ".norm1.gamma")));
        y = causalConv3d(y, prefix + ".conv1", out, 3);
        y = silu(rmsNorm(y, w(prefix + ".norm2.gamma")));
        y = causalConv3d(y, prefix + ".conv2", out, 3);
        return y.with(ReferenceMath.add(y.v(), h.v()));
    }

    /** Per frame, one head: {@code x + proj(softmax(q·kᵀ/√C)·v)}, {@code q,k,v} = thirds of {@code to_qkv(norm(x))}. */
    Vol attentionBlock(Vol x, String prefix) {
        int c = x.c();
        int s = x.h() * x.w();
        Vol u = rmsNorm(x, w(prefix + ".norm.gamma"));
        double[] out = x.v().clone();
        for (int b = 0; b < x.n(); b++) {
            for (int f = 0; f < x.t(); f++) {
                // the frame's pixels as rows [s, c]: the 1×1 convs are linear layers on them
                double[] pixels = new double[s * c];
                for (int p = 0; p < s; p++) {
                    for (int ch = 0; ch < c; ch++) {
                        pixels[p * c + ch] = u.v()[u.at(b, ch, f, p / x.w(), p % x.w())];
                    }
                }
                double[] qkv = ReferenceMath.linear(pixels, w(prefix + ".to_qkv.weight"), w(prefix + ".to_qkv.bias"),
                        s, c, 3 * c);
                double[] o = ReferenceMath.attention(ReferenceMath.columns(qkv, 3 * c, 0, c),
                        ReferenceMath.columns(qkv, 3 * c, c, 2 * c), ReferenceMath.columns(qkv, 3 * c, 2 * c, 3 * c), 1,
                        s, s, 1, 1, c, null, null);
                double[] proj = ReferenceMath.linear(o, w(prefix + ".proj.weight"), w(prefix + ".proj.bias"), s, c, c);
                for (int p = 0; p < s; p++) {
                    for (int ch = 0; ch < c; ch++) {
                        out[x.at(b, ch, f, p / x.w(), p % x.w())] += proj[p * c + ch];
                    }
                }
            }
        }
        return x.with(out);
    }

    /**
     * upsample2d/upsample3d on a first chunk: per frame nearest-exact ×2 (source index {@code ⌊(i + 0.5)/2⌋}, which
     * is {@code ⌊i/2⌋}), then {@code resample.1}: Conv2d 3×3, padding 1, {@code C → C/2}.
     */
    Vol upsample(Vol x, String prefix) {
        double[] up = ReferenceMath.upsampleNearest(x.v(), x.shape(), 1, 1, 1, 2, 2);
        double[] bias = w(prefix + ".resample.1.bias");
        return conv(new Vol(up, x.n(), x.c(), x.t(), 2 * x.h(), 2 * x.w()), w(prefix + ".resample.1.weight"), bias,
                bias.length, 1, 3, 0, 1);
    }

    /** {@code QwenImageRMS_norm}: {@code x / max(‖x‖₂ over channels, 1e-12) · √C · γ_c}. */
    static Vol rmsNorm(Vol x, double[] gamma) {
        if (gamma.length != x.c()) {
            throw new IllegalArgumentException("gamma has " + gamma.length + " values for " + x.c() + " channels");
        }
        Vol out = x.with(new double[x.v().length]);
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
        return conv(x, w(prefix + ".weight"), w(prefix + ".bias"), out, k, k, 2 * p, p);
    }

    /**
     * Stride-1 3-D conv, kernel {@code [out, in, kt, k, k]}, {@code frontPad} zero frames before the input, none
     * after, {@code pad} zeros on each side of H and W.
     */
    private static Vol conv(Vol x, double[] w, double[] bias, int out, int kt, int k, int frontPad, int pad) {
        int[] wShape = {out, x.c(), kt, k, k};
        if (w.length != ReferenceMath.numel(out, x.c(), kt, k, k)) {
            throw new IllegalArgumentException("kernel has " + w.length + " values for " + Arrays.toString(wShape));
        }
        double[] y = ReferenceMath.conv3d(x.v(), new int[] {x.n(), x.c(), x.t(), x.h(), x.w()}, w, wShape, bias,
                new int[] {1, 1, 1}, new int[] {frontPad, pad, pad, 0, pad, pad});
        return new Vol(y, x.n(), out, x.t() + frontPad - kt + 1, x.h() + 2 * pad - k + 1, x.w() + 2 * pad - k + 1);
    }

    private static Vol silu(Vol x) {
        return x.with(ReferenceMath.map(x.v(), ReferenceMath::silu));
    }
}
