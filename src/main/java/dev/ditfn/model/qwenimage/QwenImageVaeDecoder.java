package dev.ditfn.model.qwenimage;

import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.causalConv;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.midBlock;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.residualBlock;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.rmsNorm;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.upsample;

import dev.ditfn.model.qwenimage.QwenImageVaeConfig.UpBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.Upsample;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * The {@code AutoencoderKLQwenImage} decoder for single images (one frame), as one ONNX graph: {@code post_quant_conv},
 * {@code decoder.*}, clamp to [-1, 1] (diffusers {@code _decode}; spec §3.1-3.2).
 *
 * <p>Input {@code z [B, z_dim, h, w]}: latents already de-normalised ({@link VaePixels#denormalize}), activation
 * dtype. Output {@code image [B, 3, h·s, w·s]} in [-1, 1], {@code s = scaleFactor()} (8 for Qwen-Image).
 *
 * <p>Causal 3-D convs run as 2-D convs with their last time tap, sliced in the graph from the stored 5-D weights
 * ({@link QwenImageVaeBlocks}); {@code upsample3d}'s {@code time_conv} never runs on the first chunk and is not
 * referenced.
 */
public final class QwenImageVaeDecoder {
    public static final String INPUT = "z";
    public static final String OUTPUT = "image";

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
        x = midBlock(g, x, "decoder.mid_block", mid);
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
}
