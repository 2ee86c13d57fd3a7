package dev.ditfn.model.text;

import dev.ditfn.weights.ConfigJson;

/** The validation both text-encoder configs share; every message names the {@code config.json} key. */
final class QwenDecoderChecks {
    /** How messages name the file. */
    static final String FILE = "text_encoder config.json";

    private QwenDecoderChecks() {
    }

    static void positive(int v, String key) {
        if (v <= 0) {
            throw ConfigJson.invalid(FILE, key + " must be positive, got " + v);
        }
    }

    static void positive(double v, String key) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw ConfigJson.invalid(FILE, key + " must be positive, got " + v);
        }
    }

    /** The sizes every Qwen decoder config has, each positive, and the two positive reals. */
    static void sizes(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads,
            int intermediateSize, int vocabSize, double rmsNormEps, double ropeTheta) {
        positive(hiddenSize, "hidden_size");
        positive(numHiddenLayers, "num_hidden_layers");
        positive(numAttentionHeads, "num_attention_heads");
        positive(numKeyValueHeads, "num_key_value_heads");
        positive(intermediateSize, "intermediate_size");
        positive(vocabSize, "vocab_size");
        positive(rmsNormEps, "rms_norm_eps");
        positive(ropeTheta, "rope_theta");
    }

    /** Grouped-query attention: each key/value head serves the same number of query heads. */
    static void groups(int numAttentionHeads, int numKeyValueHeads) {
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw ConfigJson.invalid(FILE, "num_attention_heads " + numAttentionHeads
                    + " must be a multiple of num_key_value_heads " + numKeyValueHeads);
        }
    }
}
