package dev.ditfn.model.zimage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.dit.TimestepSinusoid;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

import java.util.Arrays;
import java.util.Objects;

/**
 * The {@code transformer/config.json} of a Z-Image DiT ({@code ZImageTransformer2DModel}, zimage-edit-spec A1), with
 * the rules the graphs rely on: one patch size pair {@code all_patch_size = [2]}, {@code all_f_patch_size = [1]};
 * {@code dim} divisible by {@code n_heads}; {@code sum(axes_dims) = dim / n_heads} with even axis dims; three axes.
 * Keys absent from a config take diffusers' constructor defaults. {@code n_kv_heads} is read and ignored, as upstream
 * ignores it (plain multi-head attention). {@code siglip_feat_dim} (the Omni variant) is refused.
 */
public record ZImageTransformerConfig(int inChannels, int dim, int nLayers, int nRefinerLayers, int nHeads,
        int nKvHeads, double normEps, boolean qkNorm, int capFeatDim, double ropeTheta, double tScale,
        int[] axesDims, int[] axesLens) {

    public static final String CLASS_NAME = "ZImageTransformer2DModel";
    private static final String FILE = "transformer config.json";
    /** Spatial patch size (pH = pW) and temporal patch size: the only ones the pipeline uses. */
    public static final int PATCH = 2;
    public static final int F_PATCH = 1;
    /** Width of the timestep conditioning: {@code min(dim, ADALN_EMBED_DIM)}. */
    static final int ADALN_EMBED_DIM = 256;
    /** Hidden width of the timestep MLP, fixed upstream ({@code TimestepEmbedder(..., mid_size=1024)}). */
    static final int T_EMBED_MID = 1024;
    /** Image and caption sequences are padded to multiples of this ({@code SEQ_MULTI_OF}). */
    public static final int SEQ_MULTI_OF = 32;
    /** The per-head q/k RMSNorm epsilon, hard-coded upstream ({@code Attention(..., eps=1e-5)}). */
    static final double QK_NORM_EPS = 1e-5;
    /** The final layer's LayerNorm epsilon ({@code FinalLayer}). */
    static final double FINAL_NORM_EPS = 1e-6;

    /** Tongyi-MAI/Z-Image-Turbo as published (axes_lens differs from the code default [1024, 512, 512]). */
    public static final ZImageTransformerConfig Z_IMAGE_TURBO = new ZImageTransformerConfig(16, 3840, 30, 2, 30, 30,
            1e-5, true, 2560, 256.0, 1000.0, new int[] {32, 48, 48}, new int[] {1536, 512, 512});
    /** diffusers' constructor defaults, for absent keys. */
    private static final ZImageTransformerConfig DEFAULTS = new ZImageTransformerConfig(16, 3840, 30, 2, 30, 30,
            1e-5, true, 2560, 256.0, 1000.0, new int[] {32, 48, 48}, new int[] {1024, 512, 512});

    public ZImageTransformerConfig {
        axesDims = axesDims == null ? null : axesDims.clone();
        axesLens = axesLens == null ? null : axesLens.clone();
        validate(inChannels, dim, nLayers, nRefinerLayers, nHeads, normEps, capFeatDim, ropeTheta, tScale, axesDims,
                axesLens);
    }

    /** A model of the same shape with other sizes (the generated presets). */
    public static ZImageTransformerConfig small(int dim, int heads, int layers, int capFeatDim, int[] axesDims) {
        return new ZImageTransformerConfig(16, dim, layers, 2, heads, heads, 1e-5, true, capFeatDim, 256.0, 1000.0,
                axesDims, new int[] {1536, 512, 512});
    }

    @Override
    public int[] axesDims() {
        return axesDims.clone();
    }

    @Override
    public int[] axesLens() {
        return axesLens.clone();
    }

    public int headDim() {
        return dim / nHeads;
    }

    /** Features of one patch token: {@code pF·pH·pW·C}. */
    public int patchDim() {
        return F_PATCH * PATCH * PATCH * inChannels;
    }

    /** Hidden width of every feed-forward: {@code int(dim / 3 * 8)} as upstream writes it. */
    public int ffnDim() {
        return (int) (dim / 3.0 * 8);
    }

    /** Width of the timestep conditioning {@code c}. */
    public int adalnDim() {
        return Math.min(dim, ADALN_EMBED_DIM);
    }

    /** The ModuleDict key of the embedder and final layer, {@code "<patch>-<f_patch>"}. */
    static String patchKey() {
        return PATCH + "-" + F_PATCH;
    }

    public static ZImageTransformerConfig fromJson(JsonNode json) {
        ConfigJson c = new ConfigJson(json, FILE);
        c.requireClassName(CLASS_NAME);
        int[] patch = c.intArray("all_patch_size", ConfigJson.ANY_LENGTH, new int[] {PATCH});
        int[] fPatch = c.intArray("all_f_patch_size", ConfigJson.ANY_LENGTH, new int[] {F_PATCH});
        if (!Arrays.equals(patch, new int[] {PATCH}) || !Arrays.equals(fPatch, new int[] {F_PATCH})) {
            throw c.bad("all_patch_size " + Arrays.toString(patch) + " / all_f_patch_size " + Arrays.toString(fPatch)
                    + " must be [2] / [1] (the patch sizes the Z-Image pipeline uses)");
        }
        if (c.has("siglip_feat_dim")) {
            throw c.bad("siglip_feat_dim is set: that is the Z-Image-Omni variant, which is not supported (it must be"
                    + " absent or null)");
        }
        return new ZImageTransformerConfig(c.integer("in_channels", DEFAULTS.inChannels),
                c.integer("dim", DEFAULTS.dim), c.integer("n_layers", DEFAULTS.nLayers),
                c.integer("n_refiner_layers", DEFAULTS.nRefinerLayers), c.integer("n_heads", DEFAULTS.nHeads),
                c.integer("n_kv_heads", DEFAULTS.nKvHeads), c.number("norm_eps", DEFAULTS.normEps),
                c.bool("qk_norm", DEFAULTS.qkNorm), c.integer("cap_feat_dim", DEFAULTS.capFeatDim),
                c.number("rope_theta", DEFAULTS.ropeTheta), c.number("t_scale", DEFAULTS.tScale),
                c.intArray("axes_dims", 3, DEFAULTS.axesDims), c.intArray("axes_lens", 3, DEFAULTS.axesLens));
    }

    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode().put("_class_name", CLASS_NAME)
                .put("_diffusers_version", "0.36.0");
        o.putArray("all_patch_size").add(PATCH);
        o.putArray("all_f_patch_size").add(F_PATCH);
        o.put("in_channels", inChannels).put("dim", dim).put("n_layers", nLayers)
                .put("n_refiner_layers", nRefinerLayers).put("n_heads", nHeads).put("n_kv_heads", nKvHeads)
                .put("norm_eps", normEps).put("qk_norm", qkNorm).put("cap_feat_dim", capFeatDim)
                .put("rope_theta", ropeTheta).put("t_scale", tScale);
        var dims = o.putArray("axes_dims");
        Arrays.stream(axesDims).forEach(dims::add);
        var lens = o.putArray("axes_lens");
        Arrays.stream(axesLens).forEach(lens::add);
        return o;
    }

    /** Every parameter tensor of spec A2 with the diffusers names and shapes. */
    public void writeRandomWeights(RandomWeights rnd) {
        long d = dim;
        String key = patchKey();
        rnd.linear("all_x_embedder." + key, d, patchDim(), true);
        TimestepSinusoid.writeSmoothFirstLinear(rnd, "t_embedder.mlp.0", T_EMBED_MID);
        rnd.gaussian("t_embedder.mlp.0.bias", 0.02, T_EMBED_MID);
        rnd.linear("t_embedder.mlp.2", adalnDim(), T_EMBED_MID, true);
        rnd.gain("cap_embedder.0.weight", capFeatDim);
        rnd.linear("cap_embedder.1", d, capFeatDim, true);
        rnd.gaussian("x_pad_token", 1.0, 1, d);
        rnd.gaussian("cap_pad_token", 1.0, 1, d);
        for (int i = 0; i < nRefinerLayers; i++) {
            writeBlock(rnd, "noise_refiner." + i + ".", true);
            writeBlock(rnd, "context_refiner." + i + ".", false);
        }
        for (int i = 0; i < nLayers; i++) {
            writeBlock(rnd, "layers." + i + ".", true);
        }
        // adaLN gates pass through tanh and scales are 1 + s: small weights keep a random model near identity-plus
        rnd.linear("all_final_layer." + key + ".adaLN_modulation.1", d, adalnDim(), true);
        rnd.linear("all_final_layer." + key + ".linear", patchDim(), d, true);
    }

    private void writeBlock(RandomWeights rnd, String p, boolean modulated) {
        long d = dim;
        for (String m : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
            rnd.linear(p + "attention." + m, d, d, false);
        }
        if (qkNorm) {
            rnd.gain(p + "attention.norm_q.weight", headDim());
            rnd.gain(p + "attention.norm_k.weight", headDim());
        }
        rnd.linear(p + "feed_forward.w1", ffnDim(), d, false);
        rnd.linear(p + "feed_forward.w3", ffnDim(), d, false);
        rnd.linear(p + "feed_forward.w2", d, ffnDim(), false);
        for (String n : new String[] {"attention_norm1", "attention_norm2", "ffn_norm1", "ffn_norm2"}) {
            rnd.gain(p + n + ".weight", d);
        }
        if (modulated) {
            rnd.linear(p + "adaLN_modulation.0", 4 * d, adalnDim(), true);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ZImageTransformerConfig c && inChannels == c.inChannels && dim == c.dim
                && nLayers == c.nLayers && nRefinerLayers == c.nRefinerLayers && nHeads == c.nHeads
                && nKvHeads == c.nKvHeads && normEps == c.normEps && qkNorm == c.qkNorm && capFeatDim == c.capFeatDim
                && ropeTheta == c.ropeTheta && tScale == c.tScale && Arrays.equals(axesDims, c.axesDims)
                && Arrays.equals(axesLens, c.axesLens);
    }

    @Override
    public int hashCode() {
        return Objects.hash(inChannels, dim, nLayers, nRefinerLayers, nHeads, nKvHeads, normEps, qkNorm, capFeatDim,
                ropeTheta, tScale, Arrays.hashCode(axesDims), Arrays.hashCode(axesLens));
    }

    @Override
    public String toString() {
        return CLASS_NAME + toJson().without("_class_name");
    }

    private static void validate(int inChannels, int dim, int nLayers, int nRefinerLayers, int nHeads, double normEps,
            int capFeatDim, double ropeTheta, double tScale, int[] axesDims, int[] axesLens) {
        positive("in_channels", inChannels);
        positive("dim", dim);
        positive("n_heads", nHeads);
        positive("cap_feat_dim", capFeatDim);
        if (nLayers < 1) {
            throw bad("n_layers = " + nLayers + " must be >= 1");
        }
        if (nRefinerLayers < 0) {
            throw bad("n_refiner_layers = " + nRefinerLayers + " must be >= 0");
        }
        if (!(normEps > 0) || !(ropeTheta > 0) || !(tScale > 0)) {
            throw bad("norm_eps, rope_theta and t_scale must be positive, got " + normEps + ", " + ropeTheta + ", "
                    + tScale);
        }
        if (dim % nHeads != 0) {
            throw bad("dim = " + dim + " must be divisible by n_heads = " + nHeads);
        }
        if (axesDims == null || axesDims.length != 3 || axesLens == null || axesLens.length != 3) {
            throw bad("axes_dims and axes_lens must list 3 axes (sequence, height, width)");
        }
        int sum = 0;
        for (int i = 0; i < 3; i++) {
            if (axesDims[i] < 0 || axesDims[i] % 2 != 0 || axesLens[i] < 1) {
                throw bad("axes_dims " + Arrays.toString(axesDims) + " must be even and >= 0, axes_lens "
                        + Arrays.toString(axesLens) + " positive");
            }
            sum += axesDims[i];
        }
        if (sum != dim / nHeads) {
            throw bad("sum(axes_dims) = " + sum + " must equal the head dim dim / n_heads = " + dim / nHeads);
        }
    }

    private static void positive(String key, int v) {
        if (v < 1) {
            throw bad(key + " = " + v + " must be positive");
        }
    }

    private static IllegalArgumentException bad(String message) {
        return ConfigJson.invalid(FILE, message);
    }
}
