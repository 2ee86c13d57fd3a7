package dev.ditfn.model.text;

import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

/**
 * What the shared Qwen-family text-encoder graph ({@link QwenTextEncoder}) needs to know about a decoder stack:
 * its sizes, which variant of the decoder layer it uses, and which hidden state the pipeline reads. Implemented by
 * {@link QwenTextEncoderConfig} (Qwen2.5-VL, read by Qwen-Image) and {@link Qwen3TextEncoderConfig} (Qwen3, read by
 * Z-Image).
 *
 * <p>The two layer variants differ only in the attention block:
 * <ul>
 *   <li>Qwen2.5: q/k/v projections with bias ({@link #qkvBias()}), no per-head norm;</li>
 *   <li>Qwen3: no projection biases, a per-head RMSNorm {@code self_attn.q_norm}/{@code k_norm} over
 *       {@link #headDim()} (eps {@link #rmsNormEps()}) applied to q and k <em>before</em> RoPE ({@link #qkNorm()}),
 *       and a {@link #headDim()} that need not be {@code hidden_size / num_attention_heads}.</li>
 * </ul>
 */
public interface QwenDecoderConfig {
    /** Which entry of transformers' {@code hidden_states} tuple the encoder graph outputs. */
    enum Output {
        /**
         * {@code hidden_states[-1]}: every decoder layer, then the final {@code norm} (what
         * {@code last_hidden_state} is). Qwen-Image.
         */
        LAST_HIDDEN_STATE,
        /**
         * {@code hidden_states[-2]}: the raw output of decoder layer {@code num_hidden_layers - 2}, without the final
         * norm; the last layer and {@code norm.weight} are not read. Z-Image. (With one layer this is the embedding
         * output.)
         */
        PENULTIMATE_HIDDEN_STATE
    }

    int hiddenSize();

    int numHiddenLayers();

    int numAttentionHeads();

    int numKeyValueHeads();

    /** Per-head width of q, k and v (the RoPE table width). */
    int headDim();

    int intermediateSize();

    double rmsNormEps();

    double ropeTheta();

    int vocabSize();

    /**
     * The decoder-layer variant and the output of one encoder: q/k/v biases or not, per-head q/k norms or not, which
     * hidden state the graph outputs.
     */
    record Variant(boolean qkvBias, boolean qkNorm, Output output) {
        /** Qwen2.5-VL as Qwen-Image reads it: q/k/v biases, no q/k norm, {@code hidden_states[-1]}. */
        public static final Variant QWEN2_5_VL = new Variant(true, false, Output.LAST_HIDDEN_STATE);
        /** Qwen3 as Z-Image reads it: no biases, q/k norms before RoPE, {@code hidden_states[-2]}. */
        public static final Variant QWEN3_PENULTIMATE = new Variant(false, true, Output.PENULTIMATE_HIDDEN_STATE);
    }

    Variant variant();

    /** Whether {@code q_proj}, {@code k_proj}, {@code v_proj} carry a bias ({@code o_proj} never does). */
    default boolean qkvBias() {
        return variant().qkvBias();
    }

    /** Whether q and k pass a per-head RMSNorm ({@code q_norm}, {@code k_norm}; {@link #headDim()}) before RoPE. */
    default boolean qkNorm() {
        return variant().qkNorm();
    }

    /** Which hidden state the encoder graph outputs. */
    default Output output() {
        return variant().output();
    }

    /** The number of decoder layers the graph builds: all of them, or all but the last for the penultimate state. */
    default int layersBuilt() {
        return output() == Output.LAST_HIDDEN_STATE ? numHiddenLayers() : numHiddenLayers() - 1;
    }

    /** {@code num_attention_heads · head_dim}: the width of q and of {@code o_proj}'s input. */
    default long queryWidth() {
        return (long) numAttentionHeads() * headDim();
    }

    /** {@code num_key_value_heads · head_dim}: the width of k and v. */
    default long keyValueWidth() {
        return (long) numKeyValueHeads() * headDim();
    }

    /** Parameters of one decoder layer (the checkpoint's, whether or not the graph reads that layer). */
    default long parametersPerLayer() {
        long h = hiddenSize();
        long q = queryWidth();
        long kv = keyValueWidth();
        long bias = qkvBias() ? q + 2 * kv : 0;
        long qkNorm = qkNorm() ? 2L * headDim() : 0;
        return 2 * h + q * h + 2 * kv * h + h * q + bias + qkNorm + 3 * h * intermediateSize();
    }

    /** Parameters the encoder graph reads: embeddings, {@link #layersBuilt()} layers, and the final norm if used. */
    default long parameterCount() {
        long norm = output() == Output.LAST_HIDDEN_STATE ? hiddenSize() : 0;
        return (long) vocabSize() * hiddenSize() + layersBuilt() * parametersPerLayer() + norm;
    }

    /**
     * Rotate-half {@code cos}/{@code sin} tables {@code [length, head_dim]} for positions {@code 0 .. length-1}: the
     * graph's {@link QwenTextEncoder#COS}/{@link QwenTextEncoder#SIN} inputs, at this config's {@link #headDim()} and
     * {@link #ropeTheta()}.
     */
    default QwenTextInputs.Rope rope(int length) {
        return QwenTextInputs.rope(length, headDim(), ropeTheta());
    }

    /**
     * Checks that every id {@code tokenizer} can produce has an embedding row ({@code vocab_size} &gt; 151645 for the
     * real Qwen2 tokenizer).
     */
    default void checkTokenizer(ByteLevelBpeTokenizer tokenizer) {
        if (tokenizer.vocabSize() > vocabSize()) {
            throw ConfigJson.invalid(QwenDecoderChecks.FILE, "vocab_size " + vocabSize()
                    + " is too small for the tokenizer, whose largest id is " + (tokenizer.vocabSize() - 1));
        }
    }

    /**
     * Writes random values for every tensor of the checkpoint's language model under {@code prefix} (e.g.
     * {@code model.}): {@code embed_tokens.weight}, all {@code layers.{i}.…} (with biases / {@code q_norm},
     * {@code k_norm} as the variant has them) and {@code norm.weight}, also those the graph does not read. No
     * {@code lm_head}.
     */
    default void writeDecoderWeights(RandomWeights rnd, String prefix) {
        long h = hiddenSize();
        long q = queryWidth();
        long kv = keyValueWidth();
        long inter = intermediateSize();
        rnd.gaussian(prefix + "embed_tokens.weight", 1.0, vocabSize(), h);
        for (int i = 0; i < numHiddenLayers(); i++) {
            String l = prefix + "layers." + i + ".";
            rnd.gain(l + "input_layernorm.weight", h);
            rnd.linear(l + "self_attn.q_proj", q, h, qkvBias());
            rnd.linear(l + "self_attn.k_proj", kv, h, qkvBias());
            rnd.linear(l + "self_attn.v_proj", kv, h, qkvBias());
            rnd.linear(l + "self_attn.o_proj", h, q, false);
            if (qkNorm()) {
                rnd.gain(l + "self_attn.q_norm.weight", headDim());
                rnd.gain(l + "self_attn.k_norm.weight", headDim());
            }
            rnd.gain(l + "post_attention_layernorm.weight", h);
            rnd.linear(l + "mlp.gate_proj", inter, h, false);
            rnd.linear(l + "mlp.up_proj", inter, h, false);
            rnd.linear(l + "mlp.down_proj", h, inter, false);
        }
        rnd.gain(prefix + "norm.weight", h);
    }
}
