package dev.ditfn.model.vision;

import dev.ditfn.model.text.QwenTextEncoder;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * Qwen2.5-VL's vision tower ({@code Qwen2_5_VisionTransformerPretrainedModel}; zimage-edit-spec B4) as a graph over
 * the patches of one image, in the processor's natural row order ({@link QwenVisionInputs}):
 * <ul>
 *   <li>{@value #PIXEL_VALUES} {@code [P, C·T·p·p]} float32 (1176 features; {@link QwenVisionInputs#patchify})</li>
 *   <li>{@value #ROPE_COS}, {@value #ROPE_SIN} {@code [P, head_dim]} float32 ({@link QwenVisionConfig#rope})</li>
 *   <li>{@value #WINDOW_ROWS} {@code [W·L]} int64, {@value #WINDOW_PAD_BIAS} {@code [W, 1, 1, L]} float32,
 *       {@value #INVERSE_ROWS} {@code [P]} int64: the windows ({@code L = 64} slots each) as
 *       {@link QwenVisionInputs#windows} lays them out ({@link QwenVisionConfig#windows})</li>
 *   <li>output {@value #OUTPUT} {@code [P/4, out_hidden_size]} in the target's activation type, one row per merged
 *       2×2 block, in the order the language model's {@code <|image_pad|>} tokens take them</li>
 * </ul>
 * Patch embedding: the Conv3d with kernel = stride is a Linear over its weight flattened to
 * {@code [hidden, C·T·p·p]} (the row features are ordered like the kernel, (C, T, y, x)). Blocks: pre-RMSNorm (eps
 * 1e-6) attention with fused {@code qkv}, rotate-half RoPE on q and k in fp32, scale 1/√head_dim, non-causal; over the
 * whole image in {@code fullatt_block_indexes}, else within each window; then a SwiGLU MLP with biases.
 * Merger: RMSNorm {@code ln_q}, groups of 4 consecutive rows concatenated, {@code mlp.2(GELU(mlp.0(·)))} (exact GELU).
 *
 * <p>Upstream permutes the merged tokens into window-major order, runs variable-length attention per window and
 * undoes the permutation after the merger; the permutation commutes with everything but attention (it moves tokens and
 * their RoPE rows together), so the graph keeps the natural order and permutes only around the windowed attention:
 * q/k/v rows are gathered by {@value #WINDOW_ROWS} into a batch of {@code W} windows of {@code L} slots (RoPE tables
 * gathered alike), attended per window with {@value #WINDOW_PAD_BIAS} masking the pad slots of partial windows, and
 * gathered back by {@value #INVERSE_ROWS}. Nothing is {@code P × P} but the full blocks' scores.
 */
public final class QwenVisionTower {
    public static final String PIXEL_VALUES = "pixel_values";
    public static final String ROPE_COS = "rope_cos";
    public static final String ROPE_SIN = "rope_sin";
    public static final String WINDOW_ROWS = "window_rows";
    public static final String WINDOW_PAD_BIAS = "window_pad_bias";
    public static final String INVERSE_ROWS = "inverse_rows";
    public static final String OUTPUT = "image_embeds";

    private final QwenVisionConfig config;

    public QwenVisionTower(QwenVisionConfig config) {
        this.config = config;
    }

    public QwenVisionConfig config() {
        return config;
    }

    /** {@link QwenVisionConfig#LEGACY_PREFIX} or {@link QwenVisionConfig#NEW_PREFIX}, whichever {@code weights} hold. */
    public static String detectPrefix(WeightCatalog weights) {
        return QwenTextEncoder.detectPrefix(weights, "vision tower", "patch_embed.proj.weight",
                QwenVisionConfig.LEGACY_PREFIX, QwenVisionConfig.NEW_PREFIX);
    }

    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        String prefix = detectPrefix(weights);
        GraphBuilder g = new GraphBuilder("qwen_vision_tower", target, weights);
        Layers nn = new Layers(g);
        long hidden = config.hiddenSize();
        int hd = config.headDim();
        Value pixels = toAct(g, g.input(PIXEL_VALUES, DType.FLOAT32, "patches", config.patchFeatures()));
        Value cos = g.unsqueeze(g.input(ROPE_COS, DType.FLOAT32, "patches", hd), 1);
        Value sin = g.unsqueeze(g.input(ROPE_SIN, DType.FLOAT32, "patches", hd), 1);
        Windows windows = windows(g, g.input(WINDOW_ROWS, DType.INT64, "window_slots"),
                g.input(WINDOW_PAD_BIAS, DType.FLOAT32, "windows", 1, 1, config.windowLength()),
                g.input(INVERSE_ROWS, DType.INT64, "patches"), cos, sin);

        Value kernel = g.weight(prefix + "patch_embed.proj.weight", hidden, config.inChannels(),
                config.temporalPatchSize(), config.patchSize(), config.patchSize());
        Value x = nn.linear(g.unsqueeze(pixels, 0), g.reshape(kernel, hidden, config.patchFeatures()), null);
        for (int i = 0; i < config.depth(); i++) {
            x = block(g, prefix + "blocks." + i + ".", x, cos, sin, config.fullAttention(i) ? null : windows);
        }
        Value out = merger(g, prefix + "merger.", x);
        g.output(out, OUTPUT, g.act(), "tokens", config.outHiddenSize());
        return g;
    }

    /**
     * The windowed blocks' batching, shared by all of them.
     *
     * @param rows {@code [W·L]} int64, the patch row of each slot
     * @param inverseRows {@code [P]} int64, the slot of each patch row
     * @param padBias {@code [W, 1, L, L]} in the activation type (0 real, -inf pad key)
     * @param cos {@code [W, L, 1, head_dim]} float32, the RoPE table gathered by {@code rows}
     * @param sin likewise
     */
    public record Windows(Value rows, Value inverseRows, Value padBias, Value cos, Value sin) {
    }

    /**
     * {@link Windows} from the graph inputs: {@code rows [W·L]}, {@code padBias [W, 1, 1, L]} float32,
     * {@code inverseRows [P]}, and the natural-order RoPE tables {@code cos, sin [P, 1, head_dim]} float32.
     */
    public Windows windows(GraphBuilder g, Value rows, Value padBias, Value inverseRows, Value cos, Value sin) {
        long length = config.windowLength();
        Value bias = toAct(g, padBias);
        // MultiHeadAttention broadcasts its bias over batch and heads only: spell out the query axis.
        bias = g.expand(bias, g.concat(0, g.slice(g.shape(bias), 0, 0, 2), g.constLongs(length, length)));
        return new Windows(rows, inverseRows, bias, gatherWindows(g, cos, rows, 0), gatherWindows(g, sin, rows, 0));
    }

    /** {@code x}'s rows along {@code axis} gathered by {@code rows [W·L]} and split to {@code [.., W, L, ..]}. */
    private Value gatherWindows(GraphBuilder g, Value x, Value rows, long axis) {
        Value y = g.gather(x, rows, axis);
        Value shape = g.shape(y);
        return g.reshape(y, g.concat(0, g.slice(shape, 0, 0, axis), g.constLongs(-1, config.windowLength()),
                g.slice(shape, 0, axis + 1, Long.MAX_VALUE)));
    }

    /**
     * One block on {@code x [1, P, hidden]}: {@code x += proj(attn(RoPE(q), RoPE(k), v))} on {@code norm1(x)},
     * then {@code x += down(SiLU(gate(n)) ⊙ up(n))}, {@code n = norm2(x)}. {@code cos, sin [P, 1, head_dim]}
     * float32. With {@code windows} (a windowed block) q, k, v are gathered into the window batch
     * {@code [W, L, hidden]}, attended per window and gathered back; null for full attention over all P rows.
     *
     * @param blockPrefix e.g. {@code visual.blocks.3.}
     */
    public Value block(GraphBuilder g, String blockPrefix, Value x, Value cos, Value sin, Windows windows) {
        Layers nn = new Layers(g);
        long hidden = config.hiddenSize();
        long heads = config.numHeads();
        long hd = config.headDim();
        float eps = (float) QwenVisionConfig.RMS_NORM_EPS;
        String a = blockPrefix + "attn.";
        Value n = nn.rmsNorm(x, g.weight(blockPrefix + "norm1.weight", hidden), eps);
        Value qkv = nn.linear(n, g.weight(a + "qkv.weight", 3 * hidden, hidden), g.weight(a + "qkv.bias", 3 * hidden));
        Value bias = null;
        if (windows != null) {
            qkv = g.squeeze(gatherWindows(g, qkv, windows.rows(), 1), 0);
            cos = windows.cos();
            sin = windows.sin();
            bias = windows.padBias();
        }
        Value[] parts = g.split(qkv, 2, hidden, hidden, hidden);
        Value q = nn.rotateHalf(g.reshape(parts[0], 0, 0, heads, hd), hd, cos, sin);
        Value k = nn.rotateHalf(g.reshape(parts[1], 0, 0, heads, hd), hd, cos, sin);
        Value attn = nn.attention(q, k, parts[2], heads, heads, hd, bias);
        if (windows != null) {
            attn = g.gather(g.reshape(attn, 1, -1, hidden), windows.inverseRows(), 1);
        }
        x = g.add(x, nn.linear(attn, g.weight(a + "proj.weight", hidden, hidden), g.weight(a + "proj.bias", hidden)));

        String m = blockPrefix + "mlp.";
        long inter = config.intermediateSize();
        n = nn.rmsNorm(x, g.weight(blockPrefix + "norm2.weight", hidden), eps);
        Value gate = g.silu(nn.linear(n, g.weight(m + "gate_proj.weight", inter, hidden),
                g.weight(m + "gate_proj.bias", inter)));
        Value up = nn.linear(n, g.weight(m + "up_proj.weight", inter, hidden), g.weight(m + "up_proj.bias", inter));
        return g.add(x, nn.linear(g.mul(gate, up), g.weight(m + "down_proj.weight", hidden, inter),
                g.weight(m + "down_proj.bias", hidden)));
    }

    /**
     * The patch merger on {@code x [1, P, hidden]}: {@code ln_q}, every {@code spatial_merge_size²} consecutive rows
     * concatenated to one of {@link QwenVisionConfig#mergerWidth()}, {@code mlp.2(GELU(mlp.0(·)))}. Returns
     * {@code [P/4, out_hidden_size]}.
     *
     * @param mergerPrefix e.g. {@code visual.merger.}
     */
    public Value merger(GraphBuilder g, String mergerPrefix, Value x) {
        Layers nn = new Layers(g);
        long hidden = config.hiddenSize();
        long width = config.mergerWidth();
        Value y = nn.rmsNorm(x, g.weight(mergerPrefix + "ln_q.weight", hidden), (float) QwenVisionConfig.RMS_NORM_EPS);
        y = g.reshape(y, -1, width);
        y = g.gelu(nn.linear(y, g.weight(mergerPrefix + "mlp.0.weight", width, width),
                g.weight(mergerPrefix + "mlp.0.bias", width)));
        return nn.linear(y, g.weight(mergerPrefix + "mlp.2.weight", config.outHiddenSize(), width),
                g.weight(mergerPrefix + "mlp.2.bias", config.outHiddenSize()));
    }

    private static Value toAct(GraphBuilder g, Value f32) {
        return g.act() == DType.FLOAT32 ? f32 : g.cast(f32, g.act());
    }
}
