package dev.ditfn.model.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

import java.util.List;

/**
 * A Qwen3 {@code text_encoder/config.json} ({@code model_type "qwen3"}, {@code Qwen3ForCausalLM}; zimage-edit-spec
 * A5): the text encoder of Z-Image, read as {@code Qwen3Model} and run up to {@code hidden_states[-2]}. Validated on
 * construction; messages name the config keys.
 *
 * <p>Against {@link QwenTextEncoderConfig} (Qwen2.5-VL): {@link #headDim()} is explicit and may differ from
 * {@code hidden_size / num_attention_heads} (Qwen3-4B: 32 heads × 128 = 4096 ≠ 2560), the projections have no
 * biases, q and k pass a per-head RMSNorm before RoPE, RoPE is plain 1-D, and the output is the penultimate hidden
 * state. Build the graph with {@code new QwenTextEncoder(config).build(target, weights)}; the {@code cos}/{@code sin}
 * inputs come from {@link #rope(int)}.
 *
 * @param headDim               {@code head_dim}, required (Qwen3Config's own default of 128 is not assumed)
 * @param maxPositionEmbeddings {@code max_position_embeddings}; informative only (the graph takes any length)
 */
public record Qwen3TextEncoderConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads,
        int headDim, int intermediateSize, double rmsNormEps, double ropeTheta, int vocabSize,
        int maxPositionEmbeddings) implements QwenDecoderConfig {

    public static final String ARCHITECTURE = "Qwen3ForCausalLM";
    /** The bare-model class name, also accepted in {@code architectures}. */
    public static final String BASE_ARCHITECTURE = "Qwen3Model";
    public static final String MODEL_TYPE = "qwen3";
    /** Tensor-name prefix of a {@code Qwen3ForCausalLM} checkpoint ({@code model.embed_tokens.weight}, ...). */
    public static final String PREFIX = QwenTextEncoder.LEGACY_PREFIX;
    /** Qwen3Config defaults, used when the keys are absent. */
    public static final double DEFAULT_RMS_NORM_EPS = 1e-6;
    public static final double DEFAULT_ROPE_THETA = 10_000.0;
    public static final int DEFAULT_MAX_POSITION_EMBEDDINGS = 32768;

    /** Qwen3-4B as shipped in Z-Image's {@code text_encoder/} (zimage-edit-spec A5). */
    public static final Qwen3TextEncoderConfig QWEN3_4B = new Qwen3TextEncoderConfig(2560, 36, 32, 8, 128, 9728, 1e-6,
            1_000_000.0, 151936, 40960);

    /**
     * A tiny test model sized for {@link TinyTokenizer}: 3 layers (so {@code hidden_states[-2]} is not the last
     * layer's output), 4 query heads over 2 KV heads, head dim 16 ≠ hidden 32 / 4 heads.
     */
    public static final Qwen3TextEncoderConfig TINY = new Qwen3TextEncoderConfig(32, 3, 4, 2, 16, 64, 1e-6,
            1_000_000.0, TinyTokenizer.VOCAB_SIZE, 4096);

    public Qwen3TextEncoderConfig {
        QwenDecoderChecks.sizes(hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, intermediateSize,
                vocabSize, rmsNormEps, ropeTheta);
        QwenDecoderChecks.positive(headDim, "head_dim");
        QwenDecoderChecks.positive(maxPositionEmbeddings, "max_position_embeddings");
        QwenDecoderChecks.groups(numAttentionHeads, numKeyValueHeads);
        if (headDim % 2 != 0) {
            throw ConfigJson.invalid(QwenDecoderChecks.FILE, "head_dim " + headDim
                    + " must be even for rotary embeddings");
        }
    }

    /**
     * No projection biases ({@code attention_bias: false}), per-head {@code q_norm}/{@code k_norm} before RoPE, and
     * the output Z-Image reads: {@code hidden_states[-2]}, layer {@code num_hidden_layers - 2}'s raw output.
     */
    @Override
    public Variant variant() {
        return Variant.QWEN3_PENULTIMATE;
    }

    // ---- JSON ------------------------------------------------------------------------------------------

    /**
     * Reads {@code text_encoder/config.json} of a Qwen3 model. Required: {@code hidden_size},
     * {@code num_hidden_layers}, {@code num_attention_heads}, {@code num_key_value_heads}, {@code head_dim},
     * {@code intermediate_size}, {@code vocab_size}. Defaults (Qwen3Config's) for {@code rms_norm_eps},
     * {@code rope_theta}, {@code max_position_embeddings}, {@code hidden_act} (must be {@code silu}),
     * {@code attention_bias} (must be false) and {@code use_sliding_window} (must be false). {@code model_type} and
     * {@code architectures} are checked when written; {@code rope_scaling} must be null or of type {@code default};
     * newer files' {@code rope_parameters} (type {@code default}) may hold {@code rope_theta}. {@code layer_types},
     * when written, must all be {@code full_attention}. Other keys ({@code tie_word_embeddings}, token ids, dtype, …)
     * are ignored, {@code tie_word_embeddings} after a type check.
     */
    public static Qwen3TextEncoderConfig fromJson(JsonNode json) {
        ConfigJson c = new ConfigJson(json, QwenDecoderChecks.FILE);
        String modelType = c.string("model_type", MODEL_TYPE);
        if (!modelType.equals(MODEL_TYPE)) {
            throw c.bad("model_type = \"" + modelType + "\" must be \"" + MODEL_TYPE + "\"");
        }
        List<String> architectures = strings(c, json, "architectures");
        if (architectures != null && !architectures.contains(ARCHITECTURE)
                && !architectures.contains(BASE_ARCHITECTURE)) {
            throw c.bad("architectures = " + json.get("architectures") + " must name " + ARCHITECTURE + " or "
                    + BASE_ARCHITECTURE);
        }
        String act = c.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw c.bad("hidden_act = \"" + act + "\" must be \"silu\"");
        }
        if (c.bool("attention_bias", false)) {
            throw c.bad("attention_bias = true is not supported: Qwen3 text encoders have no projection biases");
        }
        if (c.bool("use_sliding_window", false)) {
            throw c.bad("use_sliding_window = true is not supported: every layer must use full attention");
        }
        List<String> layerTypes = strings(c, json, "layer_types");
        if (layerTypes != null && layerTypes.stream().anyMatch(t -> !t.equals("full_attention"))) {
            throw c.bad("layer_types = " + json.get("layer_types") + " must all be \"full_attention\"");
        }
        c.bool("tie_word_embeddings", true);
        defaultRope(c.object("rope_scaling"), "rope_scaling");
        ConfigJson ropeParams = c.object("rope_parameters");
        defaultRope(ropeParams, "rope_parameters");
        double theta = c.has("rope_theta") || ropeParams == null ? c.number("rope_theta", DEFAULT_ROPE_THETA)
                : ropeParams.number("rope_theta", DEFAULT_ROPE_THETA);
        return new Qwen3TextEncoderConfig(c.integer("hidden_size"), c.integer("num_hidden_layers"),
                c.integer("num_attention_heads"), c.integer("num_key_value_heads"), c.integer("head_dim"),
                c.integer("intermediate_size"), c.number("rms_norm_eps", DEFAULT_RMS_NORM_EPS), theta,
                c.integer("vocab_size"), c.integer("max_position_embeddings", DEFAULT_MAX_POSITION_EMBEDDINGS));
    }

    /** Plain RoPE only: {@code rope}'s {@code rope_type} (or legacy {@code type}), when written, is "default". */
    private static void defaultRope(ConfigJson rope, String key) {
        if (rope == null) {
            return;
        }
        String type = rope.string("rope_type", rope.string("type", "default"));
        if (!type.equals("default")) {
            throw rope.bad(key + ".rope_type = \"" + type + "\" is not supported: only plain RoPE (\"default\","
                    + " or rope_scaling null)");
        }
    }

    /** The list of strings under {@code key}, null when absent or JSON null. */
    private static List<String> strings(ConfigJson c, JsonNode json, String key) {
        if (!c.has(key)) {
            return null;
        }
        JsonNode v = json.get(key);
        if (!v.isArray()) {
            throw c.bad(key + " = " + v + " must be a list of strings");
        }
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw c.bad(key + " = " + v + " must be a list of strings");
            }
            out.add(e.textValue());
        }
        return out;
    }

    /** A {@code config.json} as transformers writes one for this model; {@link #fromJson} reads it back. */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.putArray("architectures").add(ARCHITECTURE);
        n.put("attention_bias", false);
        n.put("attention_dropout", 0.0);
        n.put("bos_token_id", 151643);
        n.put("eos_token_id", 151645);
        n.put("head_dim", headDim);
        n.put("hidden_act", "silu");
        n.put("hidden_size", hiddenSize);
        n.put("initializer_range", 0.02);
        n.put("intermediate_size", intermediateSize);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("max_window_layers", numHiddenLayers);
        n.put("model_type", MODEL_TYPE);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("rms_norm_eps", rmsNormEps);
        n.putNull("rope_scaling");
        n.put("rope_theta", ropeTheta);
        n.putNull("sliding_window");
        n.put("tie_word_embeddings", true);
        n.put("torch_dtype", "bfloat16");
        n.put("use_cache", true);
        n.put("use_sliding_window", false);
        n.put("vocab_size", vocabSize);
        return n;
    }

    // ---- weights ---------------------------------------------------------------------------------------

    /**
     * Writes random values for every tensor of a {@code Qwen3ForCausalLM} checkpoint with tied embeddings:
     * {@code model.embed_tokens.weight}, all {@code model.layers.{i}.…} including {@code self_attn.q_norm.weight} and
     * {@code k_norm.weight}, and {@code model.norm.weight}; no {@code lm_head.weight}. The encoder graph reads all
     * but the last layer and the final norm.
     */
    public void writeRandomWeights(RandomWeights rnd) {
        writeDecoderWeights(rnd, PREFIX);
    }
}
