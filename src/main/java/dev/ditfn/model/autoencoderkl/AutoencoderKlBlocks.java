package dev.ditfn.model.autoencoderkl;

import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Resample;
import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Stage;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;

/**
 * The building blocks the {@code AutoencoderKL} encoder and decoder share, as ONNX ops on {@code [B, C, H, W]}
 * activations (diffusers {@code ResnetBlock2D}, {@code Attention} with a group norm, {@code Upsample2D},
 * {@code Downsample2D}, {@code UNetMidBlock2D}). Weights are read by their diffusers names under {@code prefix}.
 * Package-private so tests can build each block alone.
 */
final class AutoencoderKlBlocks {
    private AutoencoderKlBlocks() {
    }

    /** {@code nn.GroupNorm(groups, channels, eps=1e-6, affine=True)}: {@code prefix.weight}, {@code prefix.bias}. */
    static Value groupNorm(GraphBuilder g, Value x, String prefix, int channels, int groups) {
        long c = channels;
        return new Layers(g).groupNorm(x, c, groups, g.weight(prefix + ".weight", c), g.weight(prefix + ".bias", c),
                AutoencoderKlConfig.NORM_EPS, 2);
    }

    /** {@code nn.Conv2d(in, out, k, stride=1, padding=k/2)} with bias. */
    static Value conv(GraphBuilder g, Value x, String prefix, int in, int out, int k) {
        return new Layers(g).conv2d(x, g.weight(prefix + ".weight", out, in, k, k), g.weight(prefix + ".bias", out), 1,
                k / 2);
    }

    /**
     * {@code ResnetBlock2D} without time embedding: {@code h = conv1(SiLU(norm1(x)))}, {@code h =
     * conv2(SiLU(norm2(h)))} (dropout 0), output {@code shortcut(x) + h} (output_scale_factor 1), the shortcut a 1×1
     * {@code conv_shortcut} iff {@code in != out}.
     */
    static Value resnet(GraphBuilder g, Value x, String prefix, int in, int out, int groups) {
        Value shortcut = in == out ? x : conv(g, x, prefix + ".conv_shortcut", in, out, 1);
        Value h = conv(g, g.silu(groupNorm(g, x, prefix + ".norm1", in, groups)), prefix + ".conv1", in, out, 3);
        h = conv(g, g.silu(groupNorm(g, h, prefix + ".norm2", out, groups)), prefix + ".conv2", out, out, 3);
        return g.add(shortcut, h);
    }

    /**
     * The mid block's {@code Attention} (heads = C / attention_head_dim = 1, {@code residual_connection=True},
     * {@code rescale_output_factor} 1, {@code AttnProcessor2_0}): pixels as {@code H·W} tokens of width C,
     * {@code n = group_norm(tokens)}, {@code q, k, v = to_q/to_k/to_v(n)} (Linear with bias), one head with SDPA's
     * scale {@code 1/√C}, {@code to_out.0} (Linear with bias), back to {@code [B, C, H, W]}, plus {@code x}.
     */
    static Value midAttention(GraphBuilder g, Value x, String prefix, int channels, int groups) {
        long c = channels;
        Layers l = new Layers(g);
        Value n = groupNorm(g, x, prefix + ".group_norm", channels, groups);
        Value tokens = l.imageToTokens(n); // [B, HW, C]
        Value q = l.linear(tokens, g.weight(prefix + ".to_q.weight", c, c), g.weight(prefix + ".to_q.bias", c));
        Value k = l.linear(tokens, g.weight(prefix + ".to_k.weight", c, c), g.weight(prefix + ".to_k.bias", c));
        Value v = l.linear(tokens, g.weight(prefix + ".to_v.weight", c, c), g.weight(prefix + ".to_v.bias", c));
        Value o = l.attention(q, k, v, 1, 1, c, null);
        o = l.linear(o, g.weight(prefix + ".to_out.0.weight", c, c), g.weight(prefix + ".to_out.0.bias", c));
        return g.add(l.tokensToImage(o, x), x);
    }

    /** A {@code DownEncoderBlock2D} or {@code UpDecoderBlock2D}: its resnets, then its resampler if any. */
    static Value stage(GraphBuilder g, Value x, Stage s, int groups) {
        for (int r = 0; r < s.resnets(); r++) {
            x = resnet(g, x, s.resnet(r), s.resnetIn(r), s.outDim(), groups);
        }
        if (s.resample() == Resample.DOWN) {
            x = downsample(g, x, s.resampler(), s.outDim());
        } else if (s.resample() == Resample.UP) {
            x = upsample(g, x, s.resampler(), s.outDim());
        }
        return x;
    }

    /** {@code UNetMidBlock2D} (one layer): resnet, attention (when {@code attention}), resnet, all at C channels. */
    static Value midBlock(GraphBuilder g, Value x, String prefix, int channels, int groups, boolean attention) {
        x = resnet(g, x, prefix + ".resnets.0", channels, channels, groups);
        if (attention) {
            x = midAttention(g, x, prefix + ".attentions.0", channels, groups);
        }
        return resnet(g, x, prefix + ".resnets.1", channels, channels, groups);
    }

    /**
     * {@code Upsample2D(use_conv=True)}: {@code F.interpolate(scale_factor=2, mode="nearest")} (output pixel i reads
     * input ⌊i/2⌋), then {@code conv} 3×3 padding 1, channels kept.
     */
    static Value upsample(GraphBuilder g, Value x, String prefix, int channels) {
        return conv(g, g.upsampleNearest(x, 1f, 1f, 2f, 2f), prefix + ".conv", channels, channels, 3);
    }

    /**
     * {@code Downsample2D(use_conv=True, padding=0)}: {@code F.pad(x, (0, 1, 0, 1))} (one zero column right, one
     * zero row at the bottom), then {@code conv} 3×3 stride 2 without padding; channels kept, {@code H → ⌊(H-2)/2⌋+1}
     * ({@code H/2} for even H). Emitted as one Conv with asymmetric pads.
     */
    static Value downsample(GraphBuilder g, Value x, String prefix, int channels) {
        long c = channels;
        return g.conv(x, g.weight(prefix + ".conv.weight", c, c, 3, 3), g.weight(prefix + ".conv.bias", c),
                new long[] {2, 2}, new long[] {0, 0, 1, 1}, 1);
    }
}
