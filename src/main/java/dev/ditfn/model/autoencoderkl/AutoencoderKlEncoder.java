package dev.ditfn.model.autoencoderkl;

import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Stage;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * The {@code AutoencoderKL} encoder (diffusers {@code AutoencoderKL._encode}: {@code Encoder}, then optional
 * {@code quant_conv}) as one ONNX graph, with the posterior split as {@code DiagonalGaussianDistribution} does.
 *
 * <p>Input {@code image [B, in_channels, H, W]} in [-1, 1] (the image processor's {@code 2x - 1}), H and W multiples
 * of {@code scaleFactor()}. Outputs {@code latent_mean} and {@code latent_logvar}, each
 * {@code [B, latent_channels, H/s, W/s]}: the first and second halves of the moments' channels, the log-variance
 * clamped to [-30, 20]. {@code retrieve_latents(..., sample_mode="argmax")} is the mean; the Z-Image img2img pipeline
 * uses the default {@code "sample"}: {@code mean + exp(0.5·logvar)·ε} with the caller's noise ε. Either is then
 * normalised with {@link AutoencoderKlConfig#encoderOutputToLatents}.
 */
public final class AutoencoderKlEncoder {
    public static final String INPUT = "image";
    public static final String MEAN = "latent_mean";
    public static final String LOGVAR = "latent_logvar";

    private final AutoencoderKlConfig config;

    public AutoencoderKlEncoder(AutoencoderKlConfig config) {
        this.config = config;
    }

    public AutoencoderKlConfig config() {
        return config;
    }

    /** Emits the encoder graph; every weight is checked against its expected shape (a mismatch names the tensor). */
    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        GraphBuilder g = new GraphBuilder("autoencoderkl_encoder", target, weights);
        int groups = config.normNumGroups();
        int first = config.blockOutChannels()[0];
        Value x = g.input(INPUT, g.act(), "batch", config.inChannels(), "height", "width");
        x = AutoencoderKlBlocks.conv(g, x, "encoder.conv_in", config.inChannels(), first, 3);
        for (Stage b : config.encoderDownBlocks()) {
            x = AutoencoderKlBlocks.stage(g, x, b, groups);
        }
        int mid = config.midChannels();
        x = AutoencoderKlBlocks.midBlock(g, x, "encoder.mid_block", mid, groups, config.midBlockAddAttention());
        x = g.silu(AutoencoderKlBlocks.groupNorm(g, x, "encoder.conv_norm_out", mid, groups));
        int latent = config.latentChannels();
        x = AutoencoderKlBlocks.conv(g, x, "encoder.conv_out", mid, 2 * latent, 3);
        if (config.useQuantConv()) {
            x = AutoencoderKlBlocks.conv(g, x, "quant_conv", 2 * latent, 2 * latent, 1);
        }
        Value[] moments = g.split(x, 1, latent, latent);
        g.output(moments[0], MEAN, g.act(), "batch", latent, "latent_height", "latent_width");
        g.output(g.clip(moments[1], -30f, 20f), LOGVAR, g.act(), "batch", latent, "latent_height", "latent_width");
        return g;
    }
}
