package dev.ditfn.model.qwenimage;

import dev.ditfn.model.text.QwenTextEncoderConfig;

import dev.ditfn.model.text.TinyTokenizer;
import dev.ditfn.onnx.DType;
import dev.ditfn.weights.SnapshotWriter;
import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a complete Qwen-Image snapshot in the diffusers layout - {@code model_index.json}, scheduler, tokenizer,
 * text encoder, transformer and VAE, with the real tensor names and deterministic random weights - at a preset's
 * small sizes. It is the embedded default model and the test and benchmark model.
 */
public final class QwenImageSnapshot {

    /** The component configs of one generated model. */
    public record Preset(String name, QwenTextEncoderConfig textEncoder, QwenImageTransformerConfig transformer,
            QwenImageVaeConfig vae) {
    }

    /** Loads and generates in about a second on a laptop CPU; the embedded default and the test model. */
    public static final Preset TINY = new Preset("tiny", QwenTextEncoderConfig.TINY, QwenImageTransformerConfig.TINY,
            QwenImageVaeConfig.TINY);
    /** Transformer blocks dominate the run time (12 blocks of width 256); for benchmarks at 256x256 (256 tokens). */
    public static final Preset BENCH = new Preset("bench", new QwenTextEncoderConfig(
            QwenImageTransformerConfig.BENCH.jointAttentionDim(), 2, 4, 2, 128, 1e-6, 1e6,
            QwenTextEncoderConfig.TINY.vocabSize(), new int[] {2, 3, 3}), QwenImageTransformerConfig.BENCH,
            QwenImageVaeConfig.TINY);

    /** Qwen-Image's published scheduler configuration. */
    static final String SCHEDULER_CONFIG = """
            {"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 1.0,
             "use_dynamic_shifting": true, "base_shift": 0.5, "max_shift": 0.9, "base_image_seq_len": 256,
             "max_image_seq_len": 8192, "shift_terminal": 0.02, "time_shift_type": "exponential",
             "invert_sigmas": false, "stochastic_sampling": false, "use_karras_sigmas": false,
             "use_exponential_sigmas": false, "use_beta_sigmas": false}
            """;

    private QwenImageSnapshot() {
    }

    public static Preset preset(String name) {
        return switch (name) {
            case "tiny" -> TINY;
            case "bench" -> BENCH;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (tiny, bench)");
        };
    }

    public static void write(Path dir, Preset preset, DType weightType, long seed) {
        SnapshotWriter out = new SnapshotWriter(dir);
        try {
            out.modelIndex("QwenImagePipeline", preset.name(),
                    "scheduler", "diffusers", "FlowMatchEulerDiscreteScheduler",
                    "text_encoder", "transformers", "Qwen2_5_VLForConditionalGeneration",
                    "tokenizer", "transformers", "Qwen2Tokenizer",
                    "transformer", "diffusers", "QwenImageTransformer2DModel",
                    "vae", "diffusers", "AutoencoderKLQwenImage");
            out.scheduler(SCHEDULER_CONFIG);
            TinyTokenizer.write(dir.resolve("tokenizer"));
            out.component("text_encoder", "model.safetensors", preset.textEncoder().toJson(), weightType, seed,
                    rnd -> preset.textEncoder().writeRandomWeights(rnd, false));
            out.component("transformer", "diffusion_pytorch_model.safetensors", preset.transformer().toJson(),
                    weightType, seed + 1, preset.transformer()::writeRandomWeights);
            out.component("vae", "diffusion_pytorch_model.safetensors", preset.vae().toJson(), weightType, seed + 2,
                    preset.vae()::writeRandomWeights);
        } catch (IOException e) {
            throw new WeightsException("cannot write the " + preset.name() + " snapshot to " + dir + ": " + e, e);
        }
    }
}
