package dev.ditfn.model.qwenimage;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;

/**
 * The building blocks the {@code AutoencoderKLQwenImage} encoder and decoder share, as ONNX ops on one frame
 * {@code [B, C, H, W]} (diffusers {@code autoencoder_kl_qwenimage.py}). Weights are read by their diffusers names
 * under {@code prefix} and checked against their stored shapes. Package-private so tests can build each block alone.
 *
 * <p>With one frame and an empty cache every causal 3-D conv sees two zero frames before the real one, so a
 * {@code (k,k,k)} kernel acts as a 2-D conv with its last time tap {@code W[:, :, k-1]}. The graph slices that tap
 * out of the stored 5-D initializer (Slice + Squeeze, constant-folded by ORT at load), so the published tensors load
 * unchanged. The resamplers' {@code time_conv} never runs on the first chunk and is not referenced.
 */
final class QwenImageVaeBlocks {
    /** {@code F.normalize}'s default lower bound on the channel L2 norm. */
    static final float NORM_EPS = 1e-12f;

    private QwenImageVaeBlocks() {
    }

    /**
     * {@code QwenImageResidualBlock}: {@code conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))) + shortcut(x)}, the shortcut
     * a 1×1 causal conv when {@code in != out}, else identity (dropout is 0 at inference).
     */
    static Value residualBlock(GraphBuilder g, Value x, String prefix, int in, int out) {
        Value shortcut = in == out ? x : causalConv(g, x, prefix + ".conv_shortcut", in, out, 1);
        Value y = g.silu(rmsNorm(g, x, prefix + ".norm1.gamma", in, false));
        y = causalConv(g, y, prefix + ".conv1", in, out, 3);
        y = g.silu(rmsNorm(g, y, prefix + ".norm2.gamma", out, false));
        y = causalConv(g, y, prefix + ".conv2", out, out, 3);
        return g.add(y, shortcut);
    }

    /** {@code QwenImageMidBlock} (one layer): {@code resnets.0}, {@code attentions.0}, {@code resnets.1}, all at C. */
    static Value midBlock(GraphBuilder g, Value x, String prefix, int channels) {
        x = residualBlock(g, x, prefix + ".resnets.0", channels, channels);
        x = attentionBlock(g, x, prefix + ".attentions.0", channels);
        return residualBlock(g, x, prefix + ".resnets.1", channels, channels);
    }

    /**
     * {@code QwenImageAttentionBlock}: one head over the {@code H·W} pixels of each image, {@code x +
     * proj(softmax(q·kᵀ/√C)·v)} with {@code q, k, v} = channel thirds of {@code to_qkv(norm(x))}.
     */
    static Value attentionBlock(GraphBuilder g, Value x, String prefix, int channels) {
        long c = channels;
        Value u = rmsNorm(g, x, prefix + ".norm.gamma", channels, true);
        Value qkv = new Layers(g).conv2d(u, g.weight(prefix + ".to_qkv.weight", 3 * c, c, 1, 1),
                g.weight(prefix + ".to_qkv.bias", 3 * c), 1, 0);
        Value tokens = new Layers(g).imageToTokens(qkv); // [B, HW, 3C]
        Value[] parts = g.split(tokens, 2, c, c, c);
        Value o = new Layers(g).attention(parts[0], parts[1], parts[2], 1, 1, c, null); // [B, HW, C]
        Value pixels = new Layers(g).tokensToImage(o, x); // [B, C, H, W]
        Value proj = new Layers(g).conv2d(pixels, g.weight(prefix + ".proj.weight", c, c, 1, 1),
                g.weight(prefix + ".proj.bias", c), 1, 0);
        return g.add(x, proj);
    }

    /**
     * {@code QwenImageResample} upsample2d / upsample3d on one frame: nearest ×2 in H and W (nearest-exact at
     * factor 2 reads input {@code ⌊i/2⌋}), then {@code resample.1}, a 3×3 conv with padding 1, {@code C → C/2}.
     */
    static Value upsample(GraphBuilder g, Value x, String prefix, int channels) {
        long c = channels;
        Value up = g.upsampleNearest(x, 1f, 1f, 2f, 2f);
        return new Layers(g).conv2d(up, g.weight(prefix + ".resample.1.weight", c / 2, c, 3, 3),
                g.weight(prefix + ".resample.1.bias", c / 2), 1, 1);
    }

    /**
     * {@code QwenImageResample} downsample2d / downsample3d on a first chunk (where {@code time_conv} is skipped):
     * {@code ZeroPad2d((0, 1, 0, 1))} (one zero column right, one zero row at the bottom), then {@code resample.1},
     * a 3×3 conv with stride 2 and no padding; channels kept, {@code H → ⌊(H-2)/2⌋+1} ({@code ⌊H/2⌋}).
     */
    static Value downsample(GraphBuilder g, Value x, String prefix, int channels) {
        long c = channels;
        return new Layers(g).conv2dPadEnd(x, g.weight(prefix + ".resample.1.weight", c, c, 3, 3),
                g.weight(prefix + ".resample.1.bias", c), 2, 1);
    }

    /**
     * {@code QwenImageRMS_norm}: {@code x / max(‖x‖₂ over channels, 1e-12) · √C · γ} - an L2 normalisation over
     * axis 1, computed in fp32 whatever the activation type. {@code γ} is stored {@code [C,1,1,1]} ({@code images =
     * false}: residual blocks, {@code norm_out}) or {@code [C,1,1]} ({@code images = true}: attention).
     */
    static Value rmsNorm(GraphBuilder g, Value x, String gammaName, int channels, boolean images) {
        long c = channels;
        Value gamma = images ? g.weight(gammaName, c, 1, 1) : g.reshape(g.weight(gammaName, c, 1, 1, 1), c, 1, 1);
        Value x32 = toF32(g, x);
        Value norm = g.sqrt(g.reduceSum(g.mul(x32, x32), 1));
        Value normalized = fromF32(g, g.div(x32, g.max(norm, g.scalarF32(NORM_EPS))));
        return g.mul(g.mul(normalized, g.scalar((float) Math.sqrt(channels))), gamma);
    }

    /**
     * A {@code QwenImageCausalConv3d} with cubic kernel {@code k} (padding {@code k/2}) on one frame: a 2-D conv with
     * the last time tap {@code W[:, :, k-1]} of the stored {@code [out, in, k, k, k]} weight.
     */
    static Value causalConv(GraphBuilder g, Value x, String prefix, int in, int out, int k) {
        return causalConv(g, x, prefix, in, out, k, out);
    }

    /**
     * {@link #causalConv(GraphBuilder, Value, String, int, int, int)} computing only output channels {@code [0, keep)}:
     * the stored {@code [out, in, k, k, k]} weight and {@code [out]} bias are checked whole, then their first
     * {@code keep} rows are sliced out in the graph.
     */
    static Value causalConv(GraphBuilder g, Value x, String prefix, int in, int out, int k, int keep) {
        Value w5 = g.weight(prefix + ".weight", out, in, k, k, k);
        Value bias = g.weight(prefix + ".bias", out);
        if (keep != out) {
            w5 = g.slice(w5, 0, 0, keep);
            bias = g.slice(bias, 0, 0, keep);
        }
        Value w = g.squeeze(g.slice(w5, 2, k - 1, k), 2);
        return new Layers(g).conv2d(x, w, bias, 1, k / 2);
    }

    private static Value toF32(GraphBuilder g, Value x) {
        return g.act() == DType.FLOAT32 ? x : g.cast(x, DType.FLOAT32);
    }

    private static Value fromF32(GraphBuilder g, Value x) {
        return g.act() == DType.FLOAT32 ? x : g.cast(x, g.act());
    }
}
