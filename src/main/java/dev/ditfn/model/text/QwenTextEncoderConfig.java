package dev.ditfn.model.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.model.text.TinyTokenizer;

import java.util.Arrays;

/**
 * The language-model part of a Qwen2.5-VL {@code text_encoder/config.json} (spec §1, §4): what the text-only
 * encoder graph needs. Validated on construction (spec §6 rules; messages name the config keys). As a
 * {@link QwenDecoderConfig} it has the {@link QwenDecoderConfig.Variant#QWEN2_5_VL} layers and output, and
 * {@code head_dim = hidden_size / num_attention_heads}; the parameter counts come from there (spec §4.2: 233,057,792
 * per layer, 7,070,619,136 read by the graph for the 7B). Z-Image's Qwen3 encoder is {@link Qwen3TextEncoderConfig}.
 *
 * @param mropeSection {@code rope_scaling.mrope_section}; empty when the config has none (plain 1-D RoPE, which is
 *     what M-RoPE reduces to for text anyway)
 */
public record QwenTextEncoderConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads,
        int intermediateSize, double rmsNormEps, double ropeTheta, int vocabSize, int[] mropeSection)
        implements QwenDecoderConfig {

    public static final String CLASS_NAME = "Qwen2_5_VLForConditionalGeneration";
    public static final String MODEL_TYPE = "qwen2_5_vl";
    private static final String FILE = QwenDecoderChecks.FILE;
    /** Qwen2_5_VLTextConfig defaults, used when the keys are absent. */
    public static final double DEFAULT_RMS_NORM_EPS = 1e-6;
    public static final double DEFAULT_ROPE_THETA = 1_000_000.0;

    /** Qwen2.5-VL-7B as published with Qwen-Image. */
    public static final QwenTextEncoderConfig QWEN2_5_VL_7B = new QwenTextEncoderConfig(3584, 28, 28, 4, 18944, 1e-6,
            1_000_000.0, 152064, new int[] {16, 24, 24});

    /** A tiny test model sized for {@link TinyTokenizer}: head dim 8, 2 query heads per KV head. */
    public static final QwenTextEncoderConfig TINY = new QwenTextEncoderConfig(32, 2, 4, 2, 64, 1e-6, 1_000_000.0,
            TinyTokenizer.VOCAB_SIZE, new int[] {1, 1, 2});

    public QwenTextEncoderConfig {
        mropeSection = mropeSection == null ? new int[0] : mropeSection.clone();
        QwenDecoderChecks.sizes(hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, intermediateSize,
                vocabSize, rmsNormEps, ropeTheta);
        if (hiddenSize % numAttentionHeads != 0) {
            throw ConfigJson.invalid(FILE, "hidden_size " + hiddenSize + " must equal num_attention_heads "
                    + numAttentionHeads + " x head_dim");
        }
        QwenDecoderChecks.groups(numAttentionHeads, numKeyValueHeads);
        int headDim = hiddenSize / numAttentionHeads;
        if (headDim % 2 != 0) {
            throw ConfigJson.invalid(FILE, "head_dim = hidden_size / num_attention_heads = " + headDim
                    + " must be even for rotary embeddings");
        }
        if (mropeSection.length > 0) {
            int sum = 0;
            for (int s : mropeSection) {
                if (s <= 0) {
                    throw ConfigJson.invalid(FILE, "rope_scaling.mrope_section " + Arrays.toString(mropeSection)
                            + " must hold positive sizes");
                }
                sum += s;
            }
            if (2 * sum != headDim) {
                throw ConfigJson.invalid(FILE, "2 x sum(rope_scaling.mrope_section "
                        + Arrays.toString(mropeSection) + ") = " + 2 * sum + " must equal head_dim "
                        + headDim + " (hidden_size / num_attention_heads)");
            }
        }
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    @Override
    public int[] mropeSection() {
        return mropeSection.clone();
    }

    /** Q/k/v biases, no q/k norm; Qwen-Image reads {@code hidden_states[-1]}, after the final norm. */
    @Override
    public Variant variant() {
        return Variant.QWEN2_5_VL;
    }

    // ---- JSON ------------------------------------------------------------------------------------------

    /**
     * Reads {@code text_encoder/config.json}. Each key is looked up at the top level first, then under
     * {@code text_config} (the layout depends on the transformers version that wrote the file). RoPE settings are
     * read from {@code rope_theta} / {@code rope_scaling.mrope_section}, or from {@code rope_parameters} (newer files).
     */
    public static QwenTextEncoderConfig fromJson(JsonNode json) {
        ConfigJson top = new ConfigJson(json, FILE);
        ConfigJson text = top.object("text_config");
        String act = holder("hidden_act", top, text).string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw top.bad("hidden_act = \"" + act + "\" must be \"silu\"");
        }
        int hidden = requiredInt(top, text, "hidden_size");
        int heads = requiredInt(top, text, "num_attention_heads");
        ConfigJson headDimAt = holder("head_dim", top, text);
        if (headDimAt.has("head_dim") && heads > 0) {
            int headDim = headDimAt.integer("head_dim");
            if (headDim * heads != hidden) {
                throw top.bad("head_dim = " + headDim + " does not match hidden_size " + hidden
                        + " / num_attention_heads " + heads);
            }
        }
        ConfigJson ropeParams = holder("rope_parameters", top, text).object("rope_parameters");
        ConfigJson scaling = holder("rope_scaling", top, text).object("rope_scaling");
        double theta = holder("rope_theta", top, text, ropeParams).number("rope_theta", DEFAULT_ROPE_THETA);
        double eps = holder("rms_norm_eps", top, text).number("rms_norm_eps", DEFAULT_RMS_NORM_EPS);
        ConfigJson sectionAt = holder("mrope_section", scaling, ropeParams);
        int[] mrope = sectionAt == null ? new int[0]
                : sectionAt.intArray("mrope_section", ConfigJson.ANY_LENGTH, new int[0]);
        return new QwenTextEncoderConfig(hidden, requiredInt(top, text, "num_hidden_layers"), heads,
                requiredInt(top, text, "num_key_value_heads"), requiredInt(top, text, "intermediate_size"), eps, theta,
                requiredInt(top, text, "vocab_size"), mrope);
    }

    /**
     * The first of {@code layers} (null ones skipped) that holds {@code key}, else the first present layer, whose
     * default then applies; null when no layer is present.
     */
    private static ConfigJson holder(String key, ConfigJson... layers) {
        ConfigJson first = null;
        for (ConfigJson layer : layers) {
            if (layer != null && layer.has(key)) {
                return layer;
            }
            if (first == null) {
                first = layer;
            }
        }
        return first;
    }

    private static int requiredInt(ConfigJson top, ConfigJson text, String key) {
        ConfigJson at = holder(key, top, text);
        if (!at.has(key)) {
            throw top.bad("missing " + key + " (looked at the top level and under text_config)");
        }
        return at.integer(key);
    }

    /** A config.json in the legacy (top-level keys) layout that {@link #fromJson} reads back to this config. */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("_class_name", CLASS_NAME);
        n.putArray("architectures").add(CLASS_NAME);
        n.put("model_type", MODEL_TYPE);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("hidden_act", "silu");
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        n.put("vocab_size", vocabSize);
        n.put("tie_word_embeddings", false);
        n.put("use_sliding_window", false);
        if (mropeSection.length > 0) {
            ObjectNode scaling = n.putObject("rope_scaling");
            scaling.put("type", "mrope");
            scaling.put("rope_type", "default");
            ArrayNode s = scaling.putArray("mrope_section");
            for (int v : mropeSection) {
                s.add(v);
            }
        }
        return n;
    }

    // ---- weights ---------------------------------------------------------------------------------------

    /** Tensor-name prefix of the language model: {@code model.} (legacy) or {@code model.language_model.} (new). */
    public static String prefix(boolean newLayout) {
        return newLayout ? QwenTextEncoder.NEW_PREFIX : QwenTextEncoder.LEGACY_PREFIX;
    }

    /**
     * Writes random values for every tensor the text-only graph reads (embeddings, all layers, final norm; no
     * {@code lm_head}, no {@code visual}), named in the legacy layout ({@code model.embed_tokens.weight},
     * {@code model.layers.{i}.…}, {@code model.norm.weight}) or, if {@code newLayout}, under
     * {@code model.language_model.}.
     */
    public void writeRandomWeights(RandomWeights rnd, boolean newLayout) {
        writeDecoderWeights(rnd, prefix(newLayout));
    }

    // ---- record plumbing (array component) -------------------------------------------------------------

    @Override
    public boolean equals(Object o) {
        return o instanceof QwenTextEncoderConfig c && hiddenSize == c.hiddenSize && numHiddenLayers == c.numHiddenLayers
                && numAttentionHeads == c.numAttentionHeads && numKeyValueHeads == c.numKeyValueHeads
                && intermediateSize == c.intermediateSize && Double.compare(rmsNormEps, c.rmsNormEps) == 0
                && Double.compare(ropeTheta, c.ropeTheta) == 0 && vocabSize == c.vocabSize
                && Arrays.equals(mropeSection, c.mropeSection);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                intermediateSize, rmsNormEps, ropeTheta, vocabSize) + Arrays.hashCode(mropeSection);
    }

    @Override
    public String toString() {
        return "QwenTextEncoderConfig[hidden_size=" + hiddenSize + ", num_hidden_layers=" + numHiddenLayers
                + ", num_attention_heads=" + numAttentionHeads + ", num_key_value_heads=" + numKeyValueHeads
                + ", intermediate_size=" + intermediateSize + ", rms_norm_eps=" + rmsNormEps + ", rope_theta="
                + ropeTheta + ", vocab_size=" + vocabSize + ", mrope_section=" + Arrays.toString(mropeSection) + "]";
    }
}
