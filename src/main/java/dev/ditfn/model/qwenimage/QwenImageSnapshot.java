package dev.ditfn.model.qwenimage;

import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.model.vision.QwenVisionConfig;

import dev.ditfn.model.text.TinyTokenizer;
import dev.ditfn.onnx.DType;
import dev.ditfn.weights.SnapshotWriter;
import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a complete Qwen-Image snapshot in the diffusers layout - {@code model_index.json}, scheduler, tokenizer,
 * text encoder, transformer and VAE, with the real tensor names and deterministic random weights - at a preset's
 * small sizes. It is the embedded default model and the test and benchmark model.
 */
public final class QwenImageSnapshot {

    /**
     * The component configs of one generated model; {@code vision} (the text encoder's vision tower) is null for
     * text-to-image.
     */
    public record Preset(String name, QwenImageVariant variant, QwenTextEncoderConfig textEncoder,
            QwenVisionConfig vision, QwenImageTransformerConfig transformer, QwenImageVaeConfig vae) {

        /** A text-to-image preset. */
        public Preset(String name, QwenTextEncoderConfig textEncoder, QwenImageTransformerConfig transformer,
                QwenImageVaeConfig vae) {
            this(name, QwenImageVariant.TEXT_TO_IMAGE, textEncoder, null, transformer, vae);
        }
    }

    /** Loads and generates in about a second on a laptop CPU; the embedded default and the test model. */
    public static final Preset TINY = new Preset("tiny", QwenTextEncoderConfig.TINY, QwenImageTransformerConfig.TINY,
            QwenImageVaeConfig.TINY);
    /** Transformer blocks dominate the run time (12 blocks of width 256); for benchmarks at 256x256 (256 tokens). */
    public static final Preset BENCH = new Preset("bench", new QwenTextEncoderConfig(
            QwenImageTransformerConfig.BENCH.jointAttentionDim(), 2, 4, 2, 128, 1e-6, 1e6,
            QwenTextEncoderConfig.TINY.vocabSize(), new int[] {2, 3, 3}), QwenImageTransformerConfig.BENCH,
            QwenImageVaeConfig.TINY);

    /** Qwen-Image-Edit at TINY sizes, with a 4-block vision tower (windowed and full attention blocks). */
    public static final Preset EDIT_TINY = new Preset("edit-tiny", QwenImageVariant.EDIT, QwenTextEncoderConfig.TINY,
            QwenVisionConfig.TINY, QwenImageTransformerConfig.TINY, QwenImageVaeConfig.TINY);
    /** Qwen-Image-Edit-2511 (Edit Plus with {@code zero_cond_t}) at TINY sizes: up to three input images. */
    public static final Preset EDIT_PLUS_TINY = new Preset("edit-plus-tiny", QwenImageVariant.EDIT_PLUS,
            QwenTextEncoderConfig.TINY, QwenVisionConfig.TINY, QwenImageTransformerConfig.TINY.withZeroCondT(true),
            QwenImageVaeConfig.TINY);
    /** Qwen-Image-Edit with the bench transformer (12 blocks of width 256): for step-cache benchmarks of edit. */
    public static final Preset EDIT_BENCH = new Preset("edit-bench", QwenImageVariant.EDIT, BENCH.textEncoder(),
            new QwenVisionConfig(4, 32, 2, 48, BENCH.textEncoder().hiddenSize(), 14, 2, 2, 112, 3, new int[] {1, 3}),
            QwenImageTransformerConfig.BENCH, QwenImageVaeConfig.TINY);
    private static final List<Preset> PRESETS = List.of(TINY, BENCH, EDIT_TINY, EDIT_PLUS_TINY, EDIT_BENCH);

    /** The stock Qwen2-VL processor settings the Edit snapshots ship in {@code processor/}. */
    static final String PREPROCESSOR_CONFIG = """
            {"image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor",
             "do_resize": true, "do_rescale": true, "do_normalize": true, "do_convert_rgb": true,
             "rescale_factor": 0.00392156862745098, "min_pixels": 3136, "max_pixels": 12845056,
             "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2, "resample": 3,
             "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}
            """;

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
        return PRESETS.stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown preset '" + name + "' (known: "
                        + PRESETS.stream().map(Preset::name).toList() + ")"));
    }

    /** The presets of one pipeline class. */
    public static List<Preset> presets(QwenImageVariant variant) {
        return PRESETS.stream().filter(p -> p.variant() == variant).toList();
    }

    public static void write(Path dir, Preset preset, DType weightType, long seed) {
        SnapshotWriter out = new SnapshotWriter(dir);
        try {
            List<String> components = new java.util.ArrayList<>(List.of(
                    "scheduler", "diffusers", "FlowMatchEulerDiscreteScheduler",
                    "text_encoder", "transformers", "Qwen2_5_VLForConditionalGeneration",
                    "tokenizer", "transformers", "Qwen2Tokenizer",
                    "transformer", "diffusers", "QwenImageTransformer2DModel",
                    "vae", "diffusers", "AutoencoderKLQwenImage"));
            if (preset.vision() != null) {
                components.addAll(List.of("processor", "transformers", "Qwen2VLProcessor"));
                out.file("processor/preprocessor_config.json", PREPROCESSOR_CONFIG);
            }
            out.modelIndex(preset.variant().pipelineClass(), preset.name(), components.toArray(String[]::new));
            out.scheduler(SCHEDULER_CONFIG);
            TinyTokenizer.write(dir.resolve("tokenizer"));
            var textConfig = preset.textEncoder().toJson();
            if (preset.vision() != null) {
                textConfig.set("vision_config", preset.vision().toJson());
            }
            out.component("text_encoder", "model.safetensors", textConfig, weightType, seed, rnd -> {
                preset.textEncoder().writeRandomWeights(rnd, false);
                if (preset.vision() != null) {
                    preset.vision().writeRandomWeights(rnd, false);
                }
            });
            out.component("transformer", "diffusion_pytorch_model.safetensors", preset.transformer().toJson(),
                    weightType, seed + 1, preset.transformer()::writeRandomWeights);
            out.component("vae", "diffusion_pytorch_model.safetensors", preset.vae().toJson(), weightType, seed + 2,
                    preset.vae()::writeRandomWeights);
        } catch (IOException e) {
            throw new WeightsException("cannot write the " + preset.name() + " snapshot to " + dir + ": " + e, e);
        }
    }
}
