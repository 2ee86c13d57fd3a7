package dev.ditfn.model.autoencoderkl;

import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Stage;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * The {@code AutoencoderKL} decoder (diffusers {@code AutoencoderKL._decode}: optional {@code post_quant_conv}, then
 * {@code Decoder}) as one ONNX graph, for the FLUX.1 / Z-Image VAE (spec A6).
 *
 * <p>Input {@code z [B, latent_channels, h, w]} in the activation type of the target: latents already de-scaled by the
 * caller ({@link AutoencoderKlConfig#latentsToDecoderInput}: {@code latents / scaling_factor + shift_factor}). Output
 * {@code image [B, out_channels, h·s, w·s]}, {@code s = scaleFactor()} (8 for FLUX), not clamped: the pipeline's image
 * processor does {@code (x·0.5 + 0.5).clamp(0, 1)}. Norm statistics run in fp32 whatever the activation type.
 */
public final class AutoencoderKlDecoder {
    public static final String INPUT = "z";
    public static final String OUTPUT = "image";

    private final AutoencoderKlConfig config;

    public AutoencoderKlDecoder(AutoencoderKlConfig config) {
        this.config = config;
    }

    public AutoencoderKlConfig config() {
        return config;
    }

    /** Emits the decoder graph; every weight is checked against its expected shape (a mismatch names the tensor). */
    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        GraphBuilder g = new GraphBuilder("autoencoderkl_decoder", target, weights);
        int latent = config.latentChannels();
        int groups = config.normNumGroups();
        Value x = g.input(INPUT, g.act(), "batch", latent, "latent_height", "latent_width");
        if (config.usePostQuantConv()) {
            x = AutoencoderKlBlocks.conv(g, x, "post_quant_conv", latent, latent, 1);
        }
        int mid = config.midChannels();
        x = AutoencoderKlBlocks.conv(g, x, "decoder.conv_in", latent, mid, 3);
        x = AutoencoderKlBlocks.midBlock(g, x, "decoder.mid_block", mid, groups, config.midBlockAddAttention());
        for (Stage b : config.decoderUpBlocks()) {
            x = AutoencoderKlBlocks.stage(g, x, b, groups);
        }
        int channels = config.blockOutChannels()[0];
        x = g.silu(AutoencoderKlBlocks.groupNorm(g, x, "decoder.conv_norm_out", channels, groups));
        x = AutoencoderKlBlocks.conv(g, x, "decoder.conv_out", channels, config.outChannels(), 3);
        g.output(x, OUTPUT, g.act(), "batch", config.outChannels(), "height", "width");
        return g;
    }
}
