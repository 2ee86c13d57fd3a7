package dev.ditfn.model.text;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * The Qwen2.5-VL language model as a text-only encoder graph (spec §4.3): token embedding, pre-norm decoder layers
 * (Qwen2RMSNorm; q/k/v projections with bias, o_proj without; rotate-half RoPE on q and k; grouped-query attention
 * with an additive causal/padding bias; SwiGLU MLP without biases), final RMSNorm. No LM head.
 *
 * <p>Graph interface:
 * <ul>
 *   <li>{@code input_ids [B, L]} int64</li>
 *   <li>{@code cos}, {@code sin} {@code [L, head_dim]} float32: rotate-half tables, row {@code p} is
 *       {@code cos/sin(concat(p·inv, p·inv))} ({@link QwenTextInputs#rope})</li>
 *   <li>{@code attention_bias [B, 1, L, L]} float32: 0 where a query may attend, -inf elsewhere
 *       ({@link QwenTextInputs#attentionBias})</li>
 *   <li>output {@code last_hidden_state [B, L, hidden]} in the target's activation type, after the final norm
 *       (what the pipeline reads as {@code hidden_states[-1]})</li>
 * </ul>
 * The tables are shared by the batch: row {@code p} serves every sample's position {@code p}. With right padding
 * that is exactly spec's {@code cumsum(mask) - 1}; with left padding a sample's valid tokens see positions shifted by
 * its pad count, which leaves attention unchanged because RoPE scores depend only on position differences.
 */
public final class QwenTextEncoder {
    public static final String INPUT_IDS = "input_ids";
    public static final String COS = "cos";
    public static final String SIN = "sin";
    public static final String ATTENTION_BIAS = "attention_bias";
    public static final String OUTPUT = "last_hidden_state";

    /** Legacy checkpoint names ({@code save_pretrained} of transformers 4.52-4.5x; the Qwen-Image shards). */
    public static final String LEGACY_PREFIX = "model.";
    /** New in-memory names ({@code _checkpoint_conversion_mapping}: {@code ^model} → {@code model.language_model}). */
    public static final String NEW_PREFIX = "model.language_model.";

    private final QwenTextEncoderConfig config;

    public QwenTextEncoder(QwenTextEncoderConfig config) {
        this.config = config;
    }

    public QwenTextEncoderConfig config() {
        return config;
    }

    /**
     * The language model's tensor-name prefix in {@code weights}: {@link #LEGACY_PREFIX} if
     * {@code model.embed_tokens.weight} is there, else {@link #NEW_PREFIX} if
     * {@code model.language_model.embed_tokens.weight} is.
     */
    public static String detectPrefix(WeightCatalog weights) {
        if (weights.contains(LEGACY_PREFIX + "embed_tokens.weight")) {
            return LEGACY_PREFIX;
        }
        if (weights.contains(NEW_PREFIX + "embed_tokens.weight")) {
            return NEW_PREFIX;
        }
        throw new IllegalArgumentException("text encoder weights have neither '" + LEGACY_PREFIX
                + "embed_tokens.weight' nor '" + NEW_PREFIX + "embed_tokens.weight'");
    }

    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        String prefix = detectPrefix(weights);
        GraphBuilder g = new GraphBuilder("qwen_text_encoder", target, weights);
        long hidden = config.hiddenSize();
        int hd = config.headDim();
        Value ids = g.input(INPUT_IDS, DType.INT64, "batch", "seq");
        Value cos = toAct(g, g.input(COS, DType.FLOAT32, "seq", hd));
        Value sin = toAct(g, g.input(SIN, DType.FLOAT32, "seq", hd));
        Value bias = toAct(g, g.input(ATTENTION_BIAS, DType.FLOAT32, "batch", 1, "seq", "seq"));

        Value h = g.gather(g.weight(prefix + "embed_tokens.weight", config.vocabSize(), hidden), ids, 0);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            h = decoderLayer(g, prefix + "layers." + i + ".", h, cos, sin, bias);
        }
        Value out = new Layers(g).rmsNorm(h, g.weight(prefix + "norm.weight", hidden), (float) config.rmsNormEps());
        g.output(out, OUTPUT, g.act(), "batch", "seq", hidden);
        return g;
    }

    /**
     * One decoder layer on {@code h [B, L, hidden]}: {@code h += o_proj(attn(RoPE(q), RoPE(k), v))} on the
     * input-normed {@code h}, then {@code h += down(SiLU(gate(n)) ⊙ up(n))} with {@code n} the post-attention-normed
     * {@code h}. {@code cos}, {@code sin} {@code [L, head_dim]} and {@code bias [B|1, 1, L, L]} in the activation type.
     *
     * @param layerPrefix e.g. {@code model.layers.3.}
     */
    public Value decoderLayer(GraphBuilder g, String layerPrefix, Value h, Value cos, Value sin, Value bias) {
        Layers nn = new Layers(g);
        long hidden = config.hiddenSize();
        long heads = config.numAttentionHeads();
        long kvHeads = config.numKeyValueHeads();
        long hd = config.headDim();
        long kvWidth = kvHeads * hd;
        float eps = (float) config.rmsNormEps();
        String a = layerPrefix + "self_attn.";

        Value n = nn.rmsNorm(h, g.weight(layerPrefix + "input_layernorm.weight", hidden), eps);
        Value q = nn.linear(n, g.weight(a + "q_proj.weight", hidden, hidden), g.weight(a + "q_proj.bias", hidden));
        Value k = nn.linear(n, g.weight(a + "k_proj.weight", kvWidth, hidden), g.weight(a + "k_proj.bias", kvWidth));
        Value v = nn.linear(n, g.weight(a + "v_proj.weight", kvWidth, hidden), g.weight(a + "v_proj.bias", kvWidth));
        Value cos3 = g.unsqueeze(cos, 1);
        Value sin3 = g.unsqueeze(sin, 1);
        q = rotateHalfRope(g, q, heads, hd, cos3, sin3);
        k = rotateHalfRope(g, k, kvHeads, hd, cos3, sin3);
        Value attn = nn.attention(q, k, v, heads, kvHeads, hd, bias);
        h = g.add(h, nn.linear(attn, g.weight(a + "o_proj.weight", hidden, hidden), null));

        String m = layerPrefix + "mlp.";
        long inter = config.intermediateSize();
        n = nn.rmsNorm(h, g.weight(layerPrefix + "post_attention_layernorm.weight", hidden), eps);
        Value gate = g.silu(nn.linear(n, g.weight(m + "gate_proj.weight", inter, hidden), null));
        Value up = nn.linear(n, g.weight(m + "up_proj.weight", inter, hidden), null);
        return g.add(h, nn.linear(g.mul(gate, up), g.weight(m + "down_proj.weight", hidden, inter), null));
    }

    /**
     * Rotate-half RoPE on merged heads {@code x [B, L, H·hd]} with {@code cos, sin [L, 1, hd]}:
     * {@code y = x·cos + concat(-x[hd/2:], x[:hd/2])·sin} per head.
     */
    private static Value rotateHalfRope(GraphBuilder g, Value x, long heads, long hd, Value cos, Value sin) {
        Value xh = g.reshape(x, 0, 0, heads, hd);
        Value[] halves = g.split(xh, 3, hd / 2, hd / 2);
        Value rotated = g.concat(3, g.neg(halves[1]), halves[0]);
        Value y = g.add(g.mul(xh, cos), g.mul(rotated, sin));
        return g.reshape(y, 0, 0, heads * hd);
    }

    private static Value toAct(GraphBuilder g, Value f32) {
        return g.act() == DType.FLOAT32 ? f32 : g.cast(f32, g.act());
    }
}
