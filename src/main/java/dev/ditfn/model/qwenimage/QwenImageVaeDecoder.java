package dev.ditfn.model.qwenimage;

import dev.ditfn.model.qwenimage.QwenImageVaeConfig.UpBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.Upsample;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * The {@code AutoencoderKLQwenImage} decoder for single images (one frame), as one ONNX graph: {@code post_quant_conv},
 * {@code decoder.*}, clamp to [-1, 1] (diffusers {@code _decode}; spec §3.1-3.2).
 *
 * <p>Input {@code z [B, z_dim, h, w]}: latents already de-normalised ({@link VaePixels#denormalize}), activation
 * dtype. Output {@code image [B, 3, h·s, w·s]} in [-1, 1], {@code s = scaleFactor()} (8 for Qwen-Image).
 *
 * <p>With one frame and an empty cache every causal 3-D conv sees two zero frames before the real one, so a
 * {@code (k,k,k)} kernel acts as a 2-D conv with its last time tap {@code W[:, :, k-1]}. The graph slices that tap
 * out of the stored 5-D initializer (Slice + Squeeze, constant-folded by ORT at load), so the published tensors load
 * unchanged. {@code upsample3d}'s {@code time_conv} never runs on the first chunk and is not referenced.
 */
public final class QwenImageVaeDecoder {
    public static final String INPUT = "z";
    public static final String OUTPUT = "image";
    /** {@code F.normalize}'s default lower bound on the channel L2 norm. */
    static final float NORM_EPS = 1e-12f;

    private final QwenImageVaeConfig config;

    public QwenImageVaeDecoder(QwenImageVaeConfig config) {
        this.config = config;
    }

    public QwenImageVaeConfig config() {
        return config;
    }

    /** Emits the decoder graph; every weight is checked against its expected shape (a mismatch names the tensor). */
    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        GraphBuilder g = new GraphBuilder("qwenimage_vae_decoder", target, weights);
        DType act = g.act();
        int zDim = config.zDim();
        Value z = g.input(INPUT, act, "batch", zDim, "latent_height", "latent_width");

        Value x = causalConv(g, z, "post_quant_conv", zDim, zDim, 1);
        int mid = config.decoderMidDim();
        x = causalConv(g, x, "decoder.conv_in", zDim, mid, 3);
        x = residualBlock(g, x, "decoder.mid_block.resnets.0", mid, mid);
        x = attentionBlock(g, x, "decoder.mid_block.attentions.0", mid);
        x = residualBlock(g, x, "decoder.mid_block.resnets.1", mid, mid);
        int channels = mid;
        for (UpBlock b : config.decoderUpBlocks()) {
            x = upBlock(g, x, b);
            channels = b.outputDim();
        }
        x = g.silu(rmsNorm(g, x, "decoder.norm_out.gamma", channels, false));
        x = causalConv(g, x, "decoder.conv_out", channels, QwenImageVaeConfig.IMAGE_CHANNELS, 3);
        Value image = g.clip(x, -1f, 1f);
        g.output(image, OUTPUT, act, "batch", QwenImageVaeConfig.IMAGE_CHANNELS, "height", "width");
        return g;
    }

    private static Value upBlock(GraphBuilder g, Value x, UpBlock b) {
        String p = "decoder.up_blocks." + b.index();
        for (int r = 0; r < b.resnets(); r++) {
            x = residualBlock(g, x, p + ".resnets." + r, r == 0 ? b.inDim() : b.outDim(), b.outDim());
        }
        if (b.upsample() != Upsample.NONE) {
            // upsample2d and upsample3d are the same op on a first chunk (time_conv skipped)
            x = upsample(g, x, p + ".upsamplers.0", b.outDim());
        }
        return x;
    }

    // ---- blocks (package-private so tests can build each one alone) -------------------------------------

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
        Value w5 = g.weight(prefix + ".weight", out, in, k, k, k);
        Value w = g.squeeze(g.slice(w5, 2, k - 1, k), 2);
        return new Layers(g).conv2d(x, w, g.weight(prefix + ".bias", out), 1, k / 2);
    }

    private static Value toF32(GraphBuilder g, Value x) {
        return g.act() == DType.FLOAT32 ? x : g.cast(x, DType.FLOAT32);
    }

    private static Value fromF32(GraphBuilder g, Value x) {
        return g.act() == DType.FLOAT32 ? x : g.cast(x, g.act());
    }
}
