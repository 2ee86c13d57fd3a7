package dev.ditfn.model.text;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;
import dev.ditfn.onnx.WeightQuantization;

/**
 * A Qwen-family language model as a text-only encoder graph, for both text encoders the pipelines use; the
 * {@link QwenDecoderConfig} picks the variant:
 * <ul>
 *   <li>{@link QwenTextEncoderConfig} (Qwen2.5-VL, Qwen-Image; spec §4.3): q/k/v projections with bias, every
 *       layer, then the final RMSNorm ({@code hidden_states[-1]});</li>
 *   <li>{@link Qwen3TextEncoderConfig} (Qwen3-4B, Z-Image; zimage-edit-spec A5): no projection biases, per-head
 *       RMSNorm {@code q_norm}/{@code k_norm} on q and k before RoPE, an explicit {@code head_dim}, and the raw output
 *       of layer {@code num_hidden_layers - 2} without the final norm ({@code hidden_states[-2]}; the last layer is
 *       not built and its weights are not read).</li>
 * </ul>
 * Common to both: token embedding, pre-norm decoder layers (RMSNorm; {@code o_proj} without bias; rotate-half RoPE on
 * q and k; grouped-query attention with an additive causal/padding bias; SwiGLU MLP without biases). No LM head.
 *
 * <p>Use: {@code new QwenTextEncoder(config).build(target, weights)}; the tensor-name prefix ({@code model.} or
 * {@code model.language_model.}) is detected from {@code weights}. Graph interface, the same for both variants:
 * <ul>
 *   <li>{@code input_ids [B, L]} int64</li>
 *   <li>{@code cos}, {@code sin} {@code [L, head_dim]} float32: rotate-half tables, row {@code p} is
 *       {@code cos/sin(concat(p·inv, p·inv))} ({@link QwenDecoderConfig#rope}, i.e.
 *       {@link QwenTextInputs#rope}{@code (L, config.headDim(), config.ropeTheta())}; for Qwen3 {@code head_dim} is
 *       the config's explicit value, not {@code hidden_size / num_attention_heads})</li>
 *   <li>{@code attention_bias [B, 1, L, L]} float32: 0 where a query may attend, -inf elsewhere
 *       ({@link QwenTextInputs#attentionBias})</li>
 *   <li>output {@value #OUTPUT} {@code [B, L, hidden]} in the target's activation type: the hidden state
 *       {@link QwenDecoderConfig#output()} names (for Qwen3 that is {@code hidden_states[-2]}, despite the name)</li>
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
    /** {@link #buildWithImages} only. */
    public static final String IMAGE_EMBEDS = "image_embeds";
    /** {@link #buildWithImages} only. */
    public static final String IMAGE_POSITIONS = "image_positions";

    /** Legacy checkpoint names ({@code save_pretrained} of transformers 4.52-4.5x; the Qwen-Image shards). */
    public static final String LEGACY_PREFIX = "model.";
    /** New in-memory names ({@code _checkpoint_conversion_mapping}: {@code ^model} → {@code model.language_model}). */
    public static final String NEW_PREFIX = "model.language_model.";

    private final QwenDecoderConfig config;

    /** @param config a {@link QwenTextEncoderConfig} (Qwen2.5-VL) or a {@link Qwen3TextEncoderConfig} */
    public QwenTextEncoder(QwenDecoderConfig config) {
        this.config = config;
    }

    public QwenDecoderConfig config() {
        return config;
    }

    /**
     * The language model's tensor-name prefix in {@code weights}: {@link #LEGACY_PREFIX} if
     * {@code model.embed_tokens.weight} is there, else {@link #NEW_PREFIX} if
     * {@code model.language_model.embed_tokens.weight} is.
     */
    public static String detectPrefix(WeightCatalog weights) {
        return detectPrefix(weights, "text encoder", "embed_tokens.weight", LEGACY_PREFIX, NEW_PREFIX);
    }

    /**
     * The first of {@code prefixes} under which {@code weights} hold {@code tensor}; the error names every name tried.
     *
     * @param what how the message names the model part, e.g. {@code "vision tower"}
     */
    public static String detectPrefix(WeightCatalog weights, String what, String tensor, String... prefixes) {
        for (String prefix : prefixes) {
            if (weights.contains(prefix + tensor)) {
                return prefix;
            }
        }
        throw new IllegalArgumentException(what + " weights have none of " + java.util.Arrays.stream(prefixes)
                .map(p -> "'" + p + tensor + "'").collect(java.util.stream.Collectors.joining(", ")));
    }

    /** The text-only graph in full precision. */
    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        return build(target, weights, WeightQuantization.NONE);
    }

    /**
     * The text-only graph: inputs {@value #INPUT_IDS}, {@value #COS}, {@value #SIN}, {@value #ATTENTION_BIAS}; the
     * decoder layers' linears block-quantized as {@code quantization} says (the token embedding stays full precision).
     */
    public GraphBuilder build(GraphTarget target, WeightCatalog weights, WeightQuantization quantization) {
        return build(target, weights, quantization, false);
    }

    /**
     * The graph with image embeddings spliced in (Qwen-Image-Edit, zimage-edit-spec B4): the inputs of
     * {@link #build} plus
     * <ul>
     *   <li>{@value #IMAGE_EMBEDS} {@code [N_img, hidden]} in the target's activation type (the vision tower's
     *       output, images concatenated in sequence order)</li>
     *   <li>{@value #IMAGE_POSITIONS} {@code [N_img]} int64: the rows of the flattened {@code [B·L]} sequence that
     *       take them, in order ({@link QwenTextInputs#imagePositions}: where {@code input_ids == <|image_pad|>})</li>
     * </ul>
     * The token embeddings at those rows are replaced ({@code masked_scatter}; ScatterND), the rest is unchanged. For
     * images, {@value #COS}/{@value #SIN} must be the M-RoPE tables of the sample's 3-axis position ids
     * ({@link QwenTextInputs#mropePositionIds}, {@link QwenTextInputs#mropeTables}); they are shared by the batch, so
     * a batch with images holds one sample (or samples with identical position ids).
     */
    public GraphBuilder buildWithImages(GraphTarget target, WeightCatalog weights, WeightQuantization quantization) {
        return build(target, weights, quantization, true);
    }

    private GraphBuilder build(GraphTarget target, WeightCatalog weights, WeightQuantization quantization,
            boolean images) {
        String prefix = detectPrefix(weights);
        // the embedding table is gathered from, not multiplied: MatMulNBits cannot serve it
        GraphBuilder g = new GraphBuilder("qwen_text_encoder", target, weights,
                quantization.keeping(prefix + "embed_tokens."));
        long hidden = config.hiddenSize();
        int hd = config.headDim();
        Value ids = g.input(INPUT_IDS, DType.INT64, "batch", "seq");
        Value cos = toAct(g, g.input(COS, DType.FLOAT32, "seq", hd));
        Value sin = toAct(g, g.input(SIN, DType.FLOAT32, "seq", hd));
        Value bias = toAct(g, g.input(ATTENTION_BIAS, DType.FLOAT32, "batch", 1, "seq", "seq"));

        Value h = g.gather(g.weight(prefix + "embed_tokens.weight", config.vocabSize(), hidden), ids, 0);
        if (images) {
            Value embeds = g.input(IMAGE_EMBEDS, g.act(), "image_tokens", hidden);
            Value rows = g.unsqueeze(g.input(IMAGE_POSITIONS, DType.INT64, "image_tokens"), 1);
            h = g.reshape(g.scatterNd(g.reshape(h, -1, hidden), rows, embeds), g.shape(h));
        }
        for (int i = 0; i < config.layersBuilt(); i++) {
            h = decoderLayer(g, prefix + "layers." + i + ".", h, cos, sin, bias);
        }
        Value out = config.output() == QwenDecoderConfig.Output.LAST_HIDDEN_STATE
                ? new Layers(g).rmsNorm(h, g.weight(prefix + "norm.weight", hidden), (float) config.rmsNormEps())
                : h;
        g.output(out, OUTPUT, g.act(), "batch", "seq", hidden);
        return g;
    }

    /**
     * One decoder layer on {@code h [B, L, hidden]}: {@code h += o_proj(attn(RoPE(q), RoPE(k), v))} on the
     * input-normed {@code h}, then {@code h += down(SiLU(gate(n)) ⊙ up(n))} with {@code n} the post-attention-normed
     * {@code h}. With {@link QwenDecoderConfig#qkvBias()} the q/k/v projections add their biases; with
     * {@link QwenDecoderConfig#qkNorm()} q and k pass their per-head RMSNorm before RoPE. {@code cos}, {@code sin}
     * {@code [L, head_dim]} and {@code bias [B|1, 1, L, L]} in the activation type.
     *
     * @param layerPrefix e.g. {@code model.layers.3.}
     */
    public Value decoderLayer(GraphBuilder g, String layerPrefix, Value h, Value cos, Value sin, Value bias) {
        Layers nn = new Layers(g);
        long hidden = config.hiddenSize();
        long heads = config.numAttentionHeads();
        long kvHeads = config.numKeyValueHeads();
        long hd = config.headDim();
        long qWidth = config.queryWidth();
        long kvWidth = config.keyValueWidth();
        float eps = (float) config.rmsNormEps();
        String a = layerPrefix + "self_attn.";

        Value n = nn.rmsNorm(h, g.weight(layerPrefix + "input_layernorm.weight", hidden), eps);
        Value q = nn.linear(n, g.weight(a + "q_proj.weight", qWidth, hidden), qkvBias(g, a + "q_proj", qWidth));
        Value k = nn.linear(n, g.weight(a + "k_proj.weight", kvWidth, hidden), qkvBias(g, a + "k_proj", kvWidth));
        Value v = nn.linear(n, g.weight(a + "v_proj.weight", kvWidth, hidden), qkvBias(g, a + "v_proj", kvWidth));
        Value cos3 = g.unsqueeze(cos, 1);
        Value sin3 = g.unsqueeze(sin, 1);
        q = rotateHalfRope(nn, g, q, heads, hd, headNorm(g, a + "q_norm", hd), eps, cos3, sin3);
        k = rotateHalfRope(nn, g, k, kvHeads, hd, headNorm(g, a + "k_norm", hd), eps, cos3, sin3);
        Value attn = nn.attention(q, k, v, heads, kvHeads, hd, bias);
        h = g.add(h, nn.linear(attn, g.weight(a + "o_proj.weight", hidden, qWidth), null));

        String m = layerPrefix + "mlp.";
        long inter = config.intermediateSize();
        n = nn.rmsNorm(h, g.weight(layerPrefix + "post_attention_layernorm.weight", hidden), eps);
        Value gate = g.silu(nn.linear(n, g.weight(m + "gate_proj.weight", inter, hidden), null));
        Value up = nn.linear(n, g.weight(m + "up_proj.weight", inter, hidden), null);
        return g.add(h, nn.linear(g.mul(gate, up), g.weight(m + "down_proj.weight", hidden, inter), null));
    }

    /** {@code projection.bias [width]} if the variant has q/k/v biases, else null. */
    private Value qkvBias(GraphBuilder g, String projection, long width) {
        return config.qkvBias() ? g.weight(projection + ".bias", width) : null;
    }

    /** {@code norm.weight [head_dim]} if the variant has per-head q/k norms, else null. */
    private Value headNorm(GraphBuilder g, String norm, long hd) {
        return config.qkNorm() ? g.weight(norm + ".weight", hd) : null;
    }

    /**
     * Rotate-half RoPE on merged heads {@code x [B, L, H·hd]} with {@code cos, sin [L, 1, hd]}:
     * {@code y = x·cos + concat(-x[hd/2:], x[:hd/2])·sin} per head, after the per-head RMSNorm {@code norm [hd]}
     * when that is not null.
     */
    private static Value rotateHalfRope(Layers nn, GraphBuilder g, Value x, long heads, long hd, Value norm, float eps,
            Value cos, Value sin) {
        Value xh = g.reshape(x, 0, 0, heads, hd);
        if (norm != null) {
            xh = nn.rmsNorm(xh, norm, eps);
        }
        Value[] halves = g.split(xh, 3, hd / 2, hd / 2);
        Value rotated = g.concat(3, g.neg(halves[1]), halves[0]);
        Value y = g.add(g.mul(xh, cos), g.mul(rotated, sin));
        return g.reshape(y, 0, 0, heads * hd);
    }

    private static Value toAct(GraphBuilder g, Value f32) {
        return g.act() == DType.FLOAT32 ? f32 : g.cast(f32, g.act());
    }
}
