package dev.ditfn.model.autoencoderkl;

import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Resample;
import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Stage;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.WeightStore;

/**
 * A plain-Java, double-precision reference of the diffusers {@code AutoencoderKL} encoder and decoder, written from
 * upstream ({@code vae.py}, {@code resnet.py}, {@code upsampling.py}, {@code downsampling.py},
 * {@code attention_processor.py}) on {@link ReferenceMath}'s primitives: the asymmetric downsample pad is an explicit
 * {@link ReferenceMath#pad} followed by a valid stride-2 conv, the attention is written per pixel token. Weights are
 * read by diffusers tensor name.
 */
final class AutoencoderKlReference {
    /** A row-major {@code [n, c, h, w]} tensor. */
    record Img(double[] v, int n, int c, int h, int w) {
        Img {
            if (v.length != n * c * h * w) {
                throw new IllegalArgumentException(v.length + " values for [" + n + "," + c + "," + h + "," + w + "]");
            }
        }

        long[] shape() {
            return new long[] {n, c, h, w};
        }

        int[] ints() {
            return new int[] {n, c, h, w};
        }

        Img with(double[] values) {
            return new Img(values, n, c, h, w);
        }
    }

    private final WeightStore weights;
    private final int groups;

    AutoencoderKlReference(WeightStore weights, int groups) {
        this.weights = weights;
        this.groups = groups;
    }

    private double[] w(String name) {
        return ReferenceMath.weight(weights, name);
    }

    // ---- whole models ----------------------------------------------------------------------------------

    /** {@code vae.decode(z).sample}: optional post_quant_conv, then the Decoder; not clamped. */
    Img decode(AutoencoderKlConfig config, Img z) {
        return decode(config, z, true);
    }

    /** As {@link #decode(AutoencoderKlConfig, Img)}; {@code attention = false} skips the mid attention (wrong). */
    Img decode(AutoencoderKlConfig config, Img z, boolean attention) {
        Img x = config.usePostQuantConv() ? same(z, "post_quant_conv") : z;
        x = same(x, "decoder.conv_in");
        x = midBlock(x, "decoder.mid_block", config.midBlockAddAttention() && attention);
        for (Stage b : config.decoderUpBlocks()) {
            x = stage(x, b);
        }
        x = silu(groupNorm(x, "decoder.conv_norm_out"));
        return same(x, "decoder.conv_out");
    }

    /** The moments {@code [mean ; logvar]} of {@code vae.encode(x)} (before the posterior's clamp). */
    Img encodeMoments(AutoencoderKlConfig config, Img image) {
        Img x = same(image, "encoder.conv_in");
        for (Stage b : config.encoderDownBlocks()) {
            x = stage(x, b);
        }
        x = midBlock(x, "encoder.mid_block", config.midBlockAddAttention());
        x = silu(groupNorm(x, "encoder.conv_norm_out"));
        x = same(x, "encoder.conv_out");
        return config.useQuantConv() ? same(x, "quant_conv") : x;
    }

    // ---- blocks ----------------------------------------------------------------------------------------

    /** A down or up block: its resnets, then its resampler if any. */
    Img stage(Img x, Stage s) {
        for (int r = 0; r < s.resnets(); r++) {
            x = resnet(x, s.resnet(r));
        }
        return s.resample() == Resample.DOWN ? downsample(x, s.resampler())
                : s.resample() == Resample.UP ? upsample(x, s.resampler()) : x;
    }

    Img midBlock(Img x, String prefix, boolean attention) {
        x = resnet(x, prefix + ".resnets.0");
        if (attention) {
            x = attention(x, prefix + ".attentions.0");
        }
        return resnet(x, prefix + ".resnets.1");
    }

    /** {@code shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x))))))}, shortcut = 1×1 conv iff it is stored. */
    Img resnet(Img x, String prefix) {
        Img h = same(silu(groupNorm(x, prefix + ".norm1")), prefix + ".conv1");
        h = same(silu(groupNorm(h, prefix + ".norm2")), prefix + ".conv2");
        Img s = weights.contains(prefix + ".conv_shortcut.weight") ? same(x, prefix + ".conv_shortcut") : x;
        return h.with(ReferenceMath.add(s.v(), h.v()));
    }

    /**
     * {@code Attention} with group norm, one head, residual: per sample, tokens {@code t[p] = group_norm(x)[:, p]},
     * {@code x[:, p] + to_out(softmax(q·kᵀ/√C)·v)[p]}.
     */
    Img attention(Img x, String prefix) {
        int c = x.c();
        int s = x.h() * x.w();
        Img n = groupNorm(x, prefix + ".group_norm");
        double[] out = x.v().clone();
        for (int b = 0; b < x.n(); b++) {
            double[] tokens = new double[s * c];
            for (int p = 0; p < s; p++) {
                for (int ch = 0; ch < c; ch++) {
                    tokens[p * c + ch] = n.v()[(b * c + ch) * s + p];
                }
            }
            double[] q = linear(tokens, prefix + ".to_q", s, c);
            double[] k = linear(tokens, prefix + ".to_k", s, c);
            double[] v = linear(tokens, prefix + ".to_v", s, c);
            double[] o = linear(ReferenceMath.attention(q, k, v, 1, s, s, 1, 1, c, null, null), prefix + ".to_out.0",
                    s, c);
            for (int p = 0; p < s; p++) {
                for (int ch = 0; ch < c; ch++) {
                    out[(b * c + ch) * s + p] += o[p * c + ch];
                }
            }
        }
        return x.with(out);
    }

    /** {@code F.interpolate(scale_factor=2, mode="nearest")} then the 3×3 {@code conv}. */
    Img upsample(Img x, String prefix) {
        double[] up = ReferenceMath.upsampleNearest(x.v(), x.shape(), 1, 1, 2, 2);
        return upsampleWith(prefix, new Img(up, x.n(), x.c(), 2 * x.h(), 2 * x.w()));
    }

    /** The upsampler's conv on an already enlarged {@code up} (tests try wrong interpolations with it). */
    Img upsampleWith(String prefix, Img up) {
        return same(up, prefix + ".conv");
    }

    /** {@code F.pad(x, (0, 1, 0, 1))} (right and bottom), then the 3×3 {@code conv}, stride 2, no padding. */
    Img downsample(Img x, String prefix) {
        double[] padded = ReferenceMath.pad(x.v(), x.shape(), 0, 0, 0, 0, 0, 0, 1, 1);
        return conv(new Img(padded, x.n(), x.c(), x.h() + 1, x.w() + 1), prefix + ".conv", 2, 0);
    }

    /** {@code nn.GroupNorm(groups, C, eps=1e-6)} with {@code prefix.weight} and {@code prefix.bias}. */
    Img groupNorm(Img x, String prefix) {
        return x.with(ReferenceMath.groupNorm(x.v(), x.n(), x.c(), x.h() * x.w(), groups, w(prefix + ".weight"),
                w(prefix + ".bias"), AutoencoderKlConfig.NORM_EPS));
    }

    /** A stored conv {@code prefix.weight [O, C, k, k]} + bias, stride 1, padding {@code k/2} (size kept). */
    private Img same(Img x, String prefix) {
        return conv(x, prefix, 1, (int) weights.spec(prefix + ".weight").shape()[2] / 2);
    }

    /** A stored conv {@code prefix.weight [O, C, k, k]} + bias with symmetric zero padding {@code pad}. */
    private Img conv(Img x, String prefix, int stride, int pad) {
        long[] shape = weights.spec(prefix + ".weight").shape();
        int o = (int) shape[0];
        int k = (int) shape[2];
        double[] y = ReferenceMath.conv2d(x.v(), x.ints(), w(prefix + ".weight"), new int[] {o, x.c(), k, k},
                w(prefix + ".bias"), stride, pad);
        return new Img(y, x.n(), o, ReferenceMath.convOut(x.h(), k, stride, pad, pad),
                ReferenceMath.convOut(x.w(), k, stride, pad, pad));
    }

    private double[] linear(double[] x, String prefix, int rows, int c) {
        return ReferenceMath.linear(x, w(prefix + ".weight"), w(prefix + ".bias"), rows, c, c);
    }

    static Img silu(Img x) {
        return x.with(ReferenceMath.map(x.v(), ReferenceMath::silu));
    }
}
