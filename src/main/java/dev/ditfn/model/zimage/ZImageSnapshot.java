package dev.ditfn.model.zimage;

import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig;
import dev.ditfn.model.text.Qwen3TextEncoderConfig;
import dev.ditfn.model.text.TinyTokenizer;
import dev.ditfn.onnx.DType;
import dev.ditfn.weights.SnapshotWriter;
import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a complete Z-Image snapshot in the diffusers layout ({@code ZImagePipeline}: scheduler, Qwen2 tokenizer,
 * Qwen3 text encoder, Z-Image DiT, {@code AutoencoderKL}) with the real tensor names and deterministic random weights,
 * at a preset's small sizes, keeping the real model's config relations (text hidden size = {@code cap_feat_dim},
 * 16 latent channels, two refiner layers, 32-token padding, the Turbo scheduler).
 */
public final class ZImageSnapshot {

    public record Preset(String name, Qwen3TextEncoderConfig textEncoder, ZImageTransformerConfig transformer,
            AutoencoderKlConfig vae) {
    }

    /** Loads and generates in about a second: the test model. */
    public static final Preset TINY = new Preset("zimage-tiny", Qwen3TextEncoderConfig.TINY,
            ZImageTransformerConfig.small(64, 2, 2, Qwen3TextEncoderConfig.TINY.hiddenSize(), new int[] {8, 12, 12}),
            AutoencoderKlConfig.TINY);
    private static final Qwen3TextEncoderConfig BENCH_TEXT = new Qwen3TextEncoderConfig(64, 3, 4, 2, 16, 128, 1e-6,
            1_000_000.0, TinyTokenizer.VOCAB_SIZE, 4096);
    /** Main layers dominate the run time (12 layers of width 256); for benchmarks at 256x256 (256 image tokens). */
    public static final Preset BENCH = new Preset("zimage-bench", BENCH_TEXT,
            ZImageTransformerConfig.small(256, 4, 12, BENCH_TEXT.hiddenSize(), new int[] {16, 24, 24}),
            AutoencoderKlConfig.TINY);

    /** Z-Image-Turbo's published scheduler configuration: static shift 3. */
    static final String SCHEDULER_CONFIG = """
            {"_class_name": "FlowMatchEulerDiscreteScheduler", "_diffusers_version": "0.36.0",
             "num_train_timesteps": 1000, "shift": 3.0, "use_dynamic_shifting": false}
            """;

    private ZImageSnapshot() {
    }

    public static Preset preset(String name) {
        if (name.equals(TINY.name())) {
            return TINY;
        }
        if (name.equals(BENCH.name())) {
            return BENCH;
        }
        throw new IllegalArgumentException("unknown preset '" + name + "' (" + TINY.name() + ", " + BENCH.name() + ")");
    }

    public static void write(Path dir, Preset preset, DType weightType, long seed) {
        SnapshotWriter out = new SnapshotWriter(dir);
        try {
            out.modelIndex(ZImagePipeline.CLASS_NAME, preset.name(),
                    "scheduler", "diffusers", "FlowMatchEulerDiscreteScheduler",
                    "text_encoder", "transformers", "Qwen3Model",
                    "tokenizer", "transformers", "Qwen2Tokenizer",
                    "transformer", "diffusers", ZImageTransformerConfig.CLASS_NAME,
                    "vae", "diffusers", AutoencoderKlConfig.CLASS_NAME);
            out.scheduler(SCHEDULER_CONFIG);
            TinyTokenizer.write(dir.resolve("tokenizer"));
            out.component("text_encoder", "model.safetensors", preset.textEncoder().toJson(), weightType, seed,
                    preset.textEncoder()::writeRandomWeights);
            out.component("transformer", "diffusion_pytorch_model.safetensors", preset.transformer().toJson(),
                    weightType, seed + 1, preset.transformer()::writeRandomWeights);
            out.component("vae", "diffusion_pytorch_model.safetensors", preset.vae().toJson(), weightType, seed + 2,
                    preset.vae()::writeRandomWeights);
        } catch (IOException e) {
            throw new WeightsException("cannot write the " + preset.name() + " snapshot to " + dir + ": " + e, e);
        }
    }
}
