package dev.ditfn.model.qwenimage;

import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.causalConv;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.downsample;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.midBlock;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.residualBlock;
import static dev.ditfn.model.qwenimage.QwenImageVaeBlocks.rmsNorm;

import dev.ditfn.model.qwenimage.QwenImageVaeConfig.DownBlock;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

import java.util.Arrays;

/**
 * The {@code AutoencoderKLQwenImage} encoder for single images (one frame), as one ONNX graph: {@code encoder.*},
 * {@code quant_conv}, and the posterior mean (diffusers {@code _encode} on the first chunk, then
 * {@code DiagonalGaussianDistribution.mode()}, which the edit pipelines take with {@code sample_mode="argmax"}; spec
 * B2).
 *
 * <p>Input {@code image [B, 3, H, W]}: pixels in [-1, 1], activation dtype; the pipeline gives H and W multiples of 8
 * (each downsampler maps a side {@code n → ⌊n/2⌋}, so other sizes run too). Output {@code latent_mean [B, z_dim,
 * H/s, W/s]}, {@code s = scaleFactor()} (8), not yet normalised: {@link VaePixels#normalize} gives the DiT's
 * {@code (μ - latents_mean) / latents_std}.
 *
 * <p>Causal 3-D convs run as 2-D convs with their last time tap ({@link QwenImageVaeBlocks}); downsample3d skips its
 * {@code time_conv} on the first chunk, so it equals downsample2d and {@code time_conv} is not referenced. Of
 * {@code quant_conv}'s {@code 2·z_dim} output channels (μ, then log-variance) only the first {@code z_dim} are
 * computed: the graph slices the first {@code z_dim} rows of its (fully shape-checked) weight and bias.
 */
public final class QwenImageVaeEncoder {
    public static final String INPUT = "image";
    public static final String OUTPUT = "latent_mean";

    private final QwenImageVaeConfig config;

    /**
     * @throws IllegalArgumentException when {@code attn_scales} puts attention blocks into {@code down_blocks}:
     *     diffusers' encoder calls every down block as {@code layer(x, feat_cache, feat_idx)}, which
     *     {@code QwenImageAttentionBlock.forward(x)} does not accept, so such a VAE cannot encode upstream either
     */
    public QwenImageVaeEncoder(QwenImageVaeConfig config) {
        if (config.encoderDownBlocks().stream().anyMatch(b -> b.layer() == QwenImageVaeConfig.DownLayer.ATTENTION)) {
            throw new IllegalArgumentException("attn_scales = " + Arrays.toString(config.attnScales())
                    + " puts attention blocks into encoder.down_blocks, which diffusers' QwenImageEncoder3d cannot "
                    + "run (QwenImageAttentionBlock.forward takes no feat_cache); only attn_scales = [] is supported");
        }
        this.config = config;
    }

    public QwenImageVaeConfig config() {
        return config;
    }

    /** Emits the encoder graph; every weight is checked against its expected shape (a mismatch names the tensor). */
    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        GraphBuilder g = new GraphBuilder("qwenimage_vae_encoder", target, weights);
        DType act = g.act();
        int zDim = config.zDim();
        Value image = g.input(INPUT, act, "batch", QwenImageVaeConfig.IMAGE_CHANNELS, "height", "width");

        Value x = causalConv(g, image, "encoder.conv_in", QwenImageVaeConfig.IMAGE_CHANNELS, config.baseDim(), 3);
        for (DownBlock b : config.encoderDownBlocks()) {
            x = downBlock(g, x, b);
        }
        int top = config.encoderTopDim();
        x = midBlock(g, x, "encoder.mid_block", top);
        x = g.silu(rmsNorm(g, x, "encoder.norm_out.gamma", top, false));
        x = causalConv(g, x, "encoder.conv_out", top, 2 * zDim, 3);
        Value mean = causalConv(g, x, "quant_conv", 2 * zDim, 2 * zDim, 1, zDim);
        g.output(mean, OUTPUT, act, "batch", zDim, "latent_height", "latent_width");
        return g;
    }

    private static Value downBlock(GraphBuilder g, Value x, DownBlock b) {
        String p = "encoder.down_blocks." + b.index();
        return switch (b.layer()) {
            case RESIDUAL -> residualBlock(g, x, p, b.inDim(), b.outDim());
            case ATTENTION -> throw new IllegalStateException("rejected by the constructor: " + p);
            // downsample2d and downsample3d are the same op on a first chunk (time_conv skipped)
            case DOWNSAMPLE_2D, DOWNSAMPLE_3D -> downsample(g, x, p, b.outDim());
        };
    }
}
