package dev.ditfn.model.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.model.text.QwenTextInputs;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

import java.util.Arrays;

/**
 * The {@code vision_config} object of a Qwen2.5-VL {@code text_encoder/config.json} (transformers'
 * {@code Qwen2_5_VLVisionConfig}; zimage-edit-spec B4): what the {@link QwenVisionTower} graph needs. Validated on
 * construction; messages name the keys as {@code vision_config.<key>}.
 *
 * <p>Keys: {@code depth}, {@code hidden_size}, {@code num_heads}, {@code intermediate_size}, {@code out_hidden_size}
 * are required (the class defaults, e.g. {@code hidden_size} 3584, are not the 7B's 1280, so a missing size is an
 * error rather than a silent guess); {@code hidden_act} must be {@code silu}; {@code patch_size} (14),
 * {@code temporal_patch_size} (2), {@code spatial_merge_size} (2), {@code window_size} (112),
 * {@code fullatt_block_indexes} ([7, 15, 23, 31]) and {@code in_channels} (3; the published 7B file writes the older
 * key {@code in_chans}, read as a fallback) default to the class defaults. {@code tokens_per_second} only matters for
 * videos and is ignored.
 */
public record QwenVisionConfig(int depth, int hiddenSize, int numHeads, int intermediateSize, int outHiddenSize,
        int patchSize, int temporalPatchSize, int spatialMergeSize, int windowSize, int inChannels,
        int[] fullattBlockIndexes) {

    private static final String FILE = "text_encoder config.json";
    /** Every vision-tower RMSNorm ({@code norm1}, {@code norm2}, {@code merger.ln_q}) has this eps, hard-coded upstream. */
    public static final double RMS_NORM_EPS = 1e-6;
    /** {@code Qwen2_5_VisionRotaryEmbedding} theta. */
    public static final double ROPE_THETA = 10_000.0;
    /** Tensor-name prefix of the legacy saves (the Qwen-Image shards). */
    public static final String LEGACY_PREFIX = "visual.";
    /** Tensor-name prefix of newer saves ({@code ^model} → {@code model.language_model}, vision under {@code model.}). */
    public static final String NEW_PREFIX = "model.visual.";

    /** Qwen2.5-VL-7B's vision tower (head_dim 80) feeding the 3584-wide language model. */
    public static final QwenVisionConfig QWEN2_5_VL_7B = new QwenVisionConfig(32, 1280, 16, 3420, 3584, 14, 2, 2, 112,
            3, new int[] {7, 15, 23, 31});

    /**
     * A tiny tower for tests: 4 blocks with full attention in 1 and 3, width 32, 2 heads of 16, feeding
     * {@link QwenTextEncoderConfig#TINY}. Patch, merge and window sizes are the real ones (1176 features per patch,
     * windows of 8×8 patches).
     */
    public static final QwenVisionConfig TINY = new QwenVisionConfig(4, 32, 2, 48,
            QwenTextEncoderConfig.TINY.hiddenSize(), 14, 2, 2, 112, 3, new int[] {1, 3});

    public QwenVisionConfig {
        fullattBlockIndexes = fullattBlockIndexes.clone();
        positive(depth, "depth");
        positive(hiddenSize, "hidden_size");
        positive(numHeads, "num_heads");
        positive(intermediateSize, "intermediate_size");
        positive(outHiddenSize, "out_hidden_size");
        positive(patchSize, "patch_size");
        positive(temporalPatchSize, "temporal_patch_size");
        positive(spatialMergeSize, "spatial_merge_size");
        positive(windowSize, "window_size");
        positive(inChannels, "in_channels");
        if (hiddenSize % numHeads != 0) {
            throw invalid("hidden_size " + hiddenSize + " must be a multiple of num_heads " + numHeads);
        }
        if ((hiddenSize / numHeads) % 4 != 0) {
            throw invalid("head_dim = hidden_size / num_heads = " + hiddenSize / numHeads
                    + " must be a multiple of 4 for the 2-D rotary embedding (two axes, rotate-half)");
        }
        if (windowSize / spatialMergeSize / patchSize < 1) {
            throw invalid("window_size " + windowSize + " must cover at least one merged token (spatial_merge_size "
                    + spatialMergeSize + " x patch_size " + patchSize + ")");
        }
        for (int i : fullattBlockIndexes) {
            if (i < 0 || i >= depth) {
                throw invalid("fullatt_block_indexes " + Arrays.toString(fullattBlockIndexes)
                        + " must hold block indexes in [0, depth " + depth + ")");
            }
        }
    }

    private static void positive(int v, String key) {
        if (v <= 0) {
            throw invalid(key + " must be positive, got " + v);
        }
    }

    private static IllegalArgumentException invalid(String message) {
        return ConfigJson.invalid(FILE, "vision_config." + message);
    }

    @Override
    public int[] fullattBlockIndexes() {
        return fullattBlockIndexes.clone();
    }

    /** Whether block {@code i} attends over the whole image (else within its window). */
    public boolean fullAttention(int block) {
        return Arrays.stream(fullattBlockIndexes).anyMatch(i -> i == block);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Features of one {@code pixel_values} row: {@code in_channels · temporal_patch_size · patch_size²} (1176). */
    public int patchFeatures() {
        return inChannels * temporalPatchSize * patchSize * patchSize;
    }

    /** Patches merged into one output token: {@code spatial_merge_size²} (4). */
    public int mergeUnit() {
        return spatialMergeSize * spatialMergeSize;
    }

    /** The merger MLP's width: {@code hidden_size · spatial_merge_size²} (5120). */
    public int mergerWidth() {
        return hiddenSize * mergeUnit();
    }

    /** The window side in merged tokens, {@code window_size // spatial_merge_size // patch_size} (4), as upstream. */
    public int mergedWindow() {
        return windowSize / spatialMergeSize / patchSize;
    }

    /** The graph's {@code rope_cos}/{@code rope_sin} for a {@code gridH × gridW} patch grid. */
    public QwenTextInputs.Rope rope(int gridH, int gridW) {
        return QwenVisionInputs.rope(gridH, gridW, spatialMergeSize, headDim(), ROPE_THETA);
    }

    /** The graph's {@code window_rows}, {@code window_pad_bias}, {@code inverse_rows} for a {@code gridH × gridW} grid. */
    public QwenVisionInputs.Windows windows(int gridH, int gridW) {
        return QwenVisionInputs.windows(gridH, gridW, spatialMergeSize, mergedWindow());
    }

    /** Slots of one window: {@code mergedWindow² · spatial_merge_size²} (64). */
    public int windowLength() {
        return mergedWindow() * mergedWindow() * mergeUnit();
    }

    // ---- JSON ------------------------------------------------------------------------------------------

    /** Reads the {@code vision_config} object of a whole {@code text_encoder/config.json}. */
    public static QwenVisionConfig fromJson(JsonNode textEncoderConfig) {
        ConfigJson v = new ConfigJson(textEncoderConfig, FILE).object("vision_config");
        if (v == null) {
            throw ConfigJson.invalid(FILE, "missing vision_config");
        }
        String act = v.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw v.bad("vision_config.hidden_act = \"" + act + "\" must be \"silu\"");
        }
        int inChannels = v.has("in_channels") ? v.integer("in_channels") : v.integer("in_chans", 3);
        return new QwenVisionConfig(v.integer("depth"), v.integer("hidden_size"), v.integer("num_heads"),
                v.integer("intermediate_size"), v.integer("out_hidden_size"), v.integer("patch_size", 14),
                v.integer("temporal_patch_size", 2), v.integer("spatial_merge_size", 2), v.integer("window_size", 112),
                inChannels, v.intArray("fullatt_block_indexes", ConfigJson.ANY_LENGTH, new int[] {7, 15, 23, 31}));
    }

    /** The {@code vision_config} object (to put under that key of a text-encoder config) that reads back to this. */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("depth", depth);
        n.put("hidden_size", hiddenSize);
        n.put("hidden_act", "silu");
        n.put("intermediate_size", intermediateSize);
        n.put("num_heads", numHeads);
        n.put("in_channels", inChannels);
        n.put("patch_size", patchSize);
        n.put("spatial_merge_size", spatialMergeSize);
        n.put("temporal_patch_size", temporalPatchSize);
        n.put("tokens_per_second", 2);
        n.put("window_size", windowSize);
        n.put("out_hidden_size", outHiddenSize);
        ArrayNode full = n.putArray("fullatt_block_indexes");
        for (int i : fullattBlockIndexes) {
            full.add(i);
        }
        return n;
    }

    // ---- weights ---------------------------------------------------------------------------------------

    /** {@link #LEGACY_PREFIX} or, for {@code newLayout}, {@link #NEW_PREFIX}. */
    public static String prefix(boolean newLayout) {
        return newLayout ? NEW_PREFIX : LEGACY_PREFIX;
    }

    /**
     * Writes random values for every tensor of the tower under {@link #prefix}: {@code patch_embed.proj.weight}
     * {@code [hidden, in_channels, temporal_patch_size, patch, patch]}, per block {@code norm1}/{@code norm2},
     * {@code attn.qkv}, {@code attn.proj}, {@code mlp.gate_proj}/{@code up_proj}/{@code down_proj} (all with bias),
     * and {@code merger.ln_q.weight}, {@code merger.mlp.0.*}, {@code merger.mlp.2.*}.
     */
    public void writeRandomWeights(RandomWeights rnd, boolean newLayout) {
        String p = prefix(newLayout);
        long h = hiddenSize;
        rnd.gaussian(p + "patch_embed.proj.weight", 1.0 / Math.sqrt(patchFeatures()), h, inChannels,
                temporalPatchSize, patchSize, patchSize);
        for (int i = 0; i < depth; i++) {
            String b = p + "blocks." + i + ".";
            rnd.gain(b + "norm1.weight", h);
            rnd.gain(b + "norm2.weight", h);
            rnd.linear(b + "attn.qkv", 3 * h, h, true);
            rnd.linear(b + "attn.proj", h, h, true);
            rnd.linear(b + "mlp.gate_proj", intermediateSize, h, true);
            rnd.linear(b + "mlp.up_proj", intermediateSize, h, true);
            rnd.linear(b + "mlp.down_proj", h, intermediateSize, true);
        }
        rnd.gain(p + "merger.ln_q.weight", h);
        rnd.linear(p + "merger.mlp.0", mergerWidth(), mergerWidth(), true);
        rnd.linear(p + "merger.mlp.2", outHiddenSize, mergerWidth(), true);
    }

    /** Parameters of the tower (all of which the graph reads). */
    public long parameterCount() {
        long h = hiddenSize;
        long perBlock = 2 * h + 3 * h * h + 3 * h + h * h + h + 2 * (intermediateSize * h + intermediateSize)
                + h * intermediateSize + h;
        long merger = h + (long) mergerWidth() * mergerWidth() + mergerWidth() + (long) outHiddenSize * mergerWidth()
                + outHiddenSize;
        return h * patchFeatures() + depth * perBlock + merger;
    }

    // ---- record plumbing (array component) -------------------------------------------------------------

    @Override
    public boolean equals(Object o) {
        return o instanceof QwenVisionConfig c && depth == c.depth && hiddenSize == c.hiddenSize
                && numHeads == c.numHeads && intermediateSize == c.intermediateSize
                && outHiddenSize == c.outHiddenSize && patchSize == c.patchSize
                && temporalPatchSize == c.temporalPatchSize && spatialMergeSize == c.spatialMergeSize
                && windowSize == c.windowSize && inChannels == c.inChannels
                && Arrays.equals(fullattBlockIndexes, c.fullattBlockIndexes);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(depth, hiddenSize, numHeads, intermediateSize, outHiddenSize, patchSize,
                temporalPatchSize, spatialMergeSize, windowSize, inChannels) + Arrays.hashCode(fullattBlockIndexes);
    }

    @Override
    public String toString() {
        return "QwenVisionConfig[depth=" + depth + ", hidden_size=" + hiddenSize + ", num_heads=" + numHeads
                + ", intermediate_size=" + intermediateSize + ", out_hidden_size=" + outHiddenSize + ", patch_size="
                + patchSize + ", temporal_patch_size=" + temporalPatchSize + ", spatial_merge_size=" + spatialMergeSize
                + ", window_size=" + windowSize + ", in_channels=" + inChannels + ", fullatt_block_indexes="
                + Arrays.toString(fullattBlockIndexes) + "]";
    }
}
