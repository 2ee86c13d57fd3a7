package dev.ditfn.model.qwenimage;

import dev.ditfn.model.text.QwenTextEncoderConfig;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.model.text.TinyTokenizer;
import dev.ditfn.onnx.DType;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

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
        ObjectMapper json = new ObjectMapper();
        try {
            ObjectNode index = json.createObjectNode().put("_class_name", "QwenImagePipeline")
                    .put("_diffusers_version", "0.35.0").put("_dit_fn_preset", preset.name());
            index.putArray("scheduler").add("diffusers").add("FlowMatchEulerDiscreteScheduler");
            index.putArray("text_encoder").add("transformers").add("Qwen2_5_VLForConditionalGeneration");
            index.putArray("tokenizer").add("transformers").add("Qwen2Tokenizer");
            index.putArray("transformer").add("diffusers").add("QwenImageTransformer2DModel");
            index.putArray("vae").add("diffusers").add("AutoencoderKLQwenImage");
            writeJson(json, dir.resolve("model_index.json"), index);
            Files.createDirectories(dir.resolve("scheduler"));
            Files.writeString(dir.resolve("scheduler/scheduler_config.json"), SCHEDULER_CONFIG);
            TinyTokenizer.write(dir.resolve("tokenizer"));
            component(json, dir, "text_encoder", "model.safetensors", preset.textEncoder().toJson(), weightType, seed,
                    rnd -> preset.textEncoder().writeRandomWeights(rnd, false));
            component(json, dir, "transformer", "diffusion_pytorch_model.safetensors", preset.transformer().toJson(),
                    weightType, seed + 1, preset.transformer()::writeRandomWeights);
            component(json, dir, "vae", "diffusion_pytorch_model.safetensors", preset.vae().toJson(), weightType,
                    seed + 2, preset.vae()::writeRandomWeights);
        } catch (IOException e) {
            throw new WeightsException("cannot write the " + preset.name() + " snapshot to " + dir + ": " + e, e);
        }
    }

    private static void component(ObjectMapper json, Path dir, String name, String file, ObjectNode config,
            DType weightType, long seed, Consumer<RandomWeights> weights) throws IOException {
        Path folder = dir.resolve(name);
        Files.createDirectories(folder);
        writeJson(json, folder.resolve("config.json"), config);
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        weights.accept(new RandomWeights(out, weightType, seed));
        out.write(folder.resolve(file));
    }

    private static void writeJson(ObjectMapper json, Path file, ObjectNode node) throws IOException {
        Files.createDirectories(file.getParent());
        json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
    }
}
