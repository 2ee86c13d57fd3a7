package dev.ditfn.model.qwenimage;

import dev.ditfn.model.qwenimage.QwenImageVaeConfig.DownBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.UpBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.Upsample;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.WeightStore;

import java.util.Arrays;

/**
 * A plain-Java, double-precision reference of the Qwen-Image VAE decoder and encoder, written from the spec (§3.1-3.2,
 * B2) in the upstream 5-D layout {@code [B, C, T, H, W]}: causal 3-D convs are computed literally (zero-pad
 * {@code 2·p} frames in front, {@code p} on each spatial side, then a valid 3-D conv with the full stored kernel), so
 * the graph's "last time tap" shortcut is checked, not assumed; the downsampler is an explicit {@code ZeroPad2d((0, 1,
 * 0, 1))} followed by a valid stride-2 conv. Weights are read by diffusers tensor name.
 *
 * <p>{@link #firstTimeTap()} and {@link #symmetricDownsamplePad()} give deliberately wrong variants, for tests that
 * show the comparison would catch those mistakes.
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
    /** Wrong-variant knob: causal convs use the time-reversed kernel, i.e. tap 0 meets the real frame. */
    private final boolean firstTap;
    /** Zeros added before (top, left) and after (bottom, right) the downsamplers' input; upstream (0, 1). */
    private final int downPadBegin;
    private final int downPadEnd;

    QwenImageVaeReference(WeightStore weights) {
        this(weights, false, 0, 1);
    }

    private QwenImageVaeReference(WeightStore weights, boolean firstTap, int downPadBegin, int downPadEnd) {
        this.weights = weights;
        this.firstTap = firstTap;
        this.downPadBegin = downPadBegin;
        this.downPadEnd = downPadEnd;
    }

    /** A WRONG reference whose causal convs apply the first time tap {@code W[:, :, 0]} to the frame. */
    QwenImageVaeReference firstTimeTap() {
        return new QwenImageVaeReference(weights, true, downPadBegin, downPadEnd);
    }

    /** A WRONG reference whose downsamplers pad one zero on every side ({@code Conv2d(padding=1)}). */
    QwenImageVaeReference symmetricDownsamplePad() {
        return new QwenImageVaeReference(weights, firstTap, 1, 1);
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
        x = midBlock(x, "decoder.mid_block", mid);
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

    // ---- the whole encoder -----------------------------------------------------------------------------

    /**
     * {@code vae.encode(image).latent_dist.mode()} on one frame: encoder (with an empty cache: causal convs see zero
     * frames in front, downsample3d skips {@code time_conv}), {@code quant_conv}, then the first {@code z_dim} of its
     * {@code 2·z_dim} channels (the mean; {@code torch.chunk(h, 2, dim=1)[0]}).
     */
    Vol encodeMean(QwenImageVaeConfig config, Vol image) {
        Vol x = causalConv3d(image, "encoder.conv_in", config.baseDim(), 3);
        for (DownBlock b : config.encoderDownBlocks()) {
            String p = "encoder.down_blocks." + b.index();
            x = switch (b.layer()) {
                case RESIDUAL -> residualBlock(x, p, b.outDim());
                case ATTENTION -> attentionBlock(x, p);
                case DOWNSAMPLE_2D, DOWNSAMPLE_3D -> downsample(x, p);
            };
        }
        int top = config.encoderTopDim();
        x = midBlock(x, "encoder.mid_block", top);
        x = silu(rmsNorm(x, w("encoder.norm_out.gamma")));
        x = causalConv3d(x, "encoder.conv_out", 2 * config.zDim(), 3);
        return posteriorMean(causalConv3d(x, "quant_conv", 2 * config.zDim(), 1));
    }

    /** {@code DiagonalGaussianDistribution(h).mode()}: the first half of {@code h}'s channels. */
    static Vol posteriorMean(Vol h) {
        int z = h.c() / 2;
        int plane = h.t() * h.h() * h.w();
        double[] mean = new double[h.n() * z * plane];
        for (int b = 0; b < h.n(); b++) {
            System.arraycopy(h.v(), b * h.c() * plane, mean, b * z * plane, z * plane);
        }
        return new Vol(mean, h.n(), z, h.t(), h.h(), h.w());
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

    /** {@code resnets.0}, {@code attentions.0}, {@code resnets.1}, all at {@code channels}. */
    Vol midBlock(Vol x, String prefix, int channels) {
        x = residualBlock(x, prefix + ".resnets.0", channels);
        x = attentionBlock(x, prefix + ".attentions.0");
        return residualBlock(x, prefix + ".resnets.1", channels);
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
                bias.length, 1, 3, 0, 1, 1);
    }

    /**
     * downsample2d/downsample3d on a first chunk (downsample3d only caches, its {@code time_conv} is skipped): per
     * frame {@code ZeroPad2d((0, 1, 0, 1))}, then {@code resample.1}: Conv2d 3×3, stride 2, no padding, C → C.
     */
    Vol downsample(Vol x, String prefix) {
        int a = downPadBegin;
        int e = downPadEnd;
        double[] padded = ReferenceMath.pad(x.v(), x.shape(), 0, 0, 0, a, a, 0, 0, 0, e, e);
        double[] bias = w(prefix + ".resample.1.bias");
        return conv(new Vol(padded, x.n(), x.c(), x.t(), x.h() + a + e, x.w() + a + e),
                w(prefix + ".resample.1.weight"), bias, bias.length, 1, 3, 0, 0, 2);
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
        double[] kernel = w(prefix + ".weight");
        if (firstTap) {
            kernel = reverseTime(kernel, out * x.c(), k, k * k);
        }
        return conv(x, kernel, w(prefix + ".bias"), out, k, k, 2 * p, p, 1);
    }

    /** {@code [rows, kt, plane]} with the {@code kt} axis reversed. */
    private static double[] reverseTime(double[] w, int rows, int kt, int plane) {
        double[] out = new double[w.length];
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < kt; t++) {
                System.arraycopy(w, (r * kt + t) * plane, out, (r * kt + kt - 1 - t) * plane, plane);
            }
        }
        return out;
    }

    /**
     * 3-D conv, kernel {@code [out, in, kt, k, k]}, {@code frontPad} zero frames before the input, none after,
     * {@code pad} zeros on each side of H and W, {@code stride} along H and W (1 along T).
     */
    private static Vol conv(Vol x, double[] w, double[] bias, int out, int kt, int k, int frontPad, int pad,
            int stride) {
        int[] wShape = {out, x.c(), kt, k, k};
        if (w.length != ReferenceMath.numel(out, x.c(), kt, k, k)) {
            throw new IllegalArgumentException("kernel has " + w.length + " values for " + Arrays.toString(wShape));
        }
        double[] y = ReferenceMath.conv3d(x.v(), new int[] {x.n(), x.c(), x.t(), x.h(), x.w()}, w, wShape, bias,
                new int[] {1, stride, stride}, new int[] {frontPad, pad, pad, 0, pad, pad});
        return new Vol(y, x.n(), out, ReferenceMath.convOut(x.t(), kt, 1, frontPad, 0),
                ReferenceMath.convOut(x.h(), k, stride, pad, pad), ReferenceMath.convOut(x.w(), k, stride, pad, pad));
    }

    private static Vol silu(Vol x) {
        return x.with(ReferenceMath.map(x.v(), ReferenceMath::silu));
    }
}
