package dev.ditfn.model.qwenimage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.dit.TimestepSinusoid;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

import java.util.Arrays;

/**
 * The {@code transformer/config.json} of a Qwen-Image DiT ({@code QwenImageTransformer2DModel}), with the rules a
 * consistent config must keep (spec §6): {@code sum(axes_dims_rope) == attention_head_dim} with even axis dims,
 * {@code patch_size == 2} and {@code patch_size²·out_channels == in_channels} (the pipeline's 2×2 latent packing).
 * Every violation fails naming the config.json keys involved.
 *
 * <p>Keys absent from a config.json take the constructor defaults of diffusers (which are the published model's
 * values); a null or 0 {@code out_channels} means {@code in_channels}, as in diffusers. {@code guidance_embeds}
 * is accepted and ignored (the constructor ignores it too). {@code zero_cond_t} (Edit-2511: condition-image tokens
 * modulated at t = 0) is honoured; the Layered variant's switches {@code use_additional_t_cond} and
 * {@code use_layer3d_rope} are rejected when true.
 */
public record QwenImageTransformerConfig(int patchSize, int inChannels, int outChannels, int numLayers,
        int attentionHeadDim, int numAttentionHeads, int jointAttentionDim, int[] axesDimsRope, boolean zeroCondT) {

    public static final String CLASS_NAME = "QwenImageTransformer2DModel";
    private static final String FILE = "transformer config.json";

    /** RoPE base, hard-coded upstream (not a config key). */
    public static final double ROPE_THETA = 10000.0;

    /** Two blocks of width 64 (2 heads of 32): graphs build and run in milliseconds; for tests. */
    public static final QwenImageTransformerConfig TINY =
            new QwenImageTransformerConfig(2, 64, 16, 2, 32, 2, 32, new int[] {8, 12, 12});

    /** Twelve blocks of width 256 (4 heads of 64): small enough for CPU benchmarks, deep enough for step caches. */
    public static final QwenImageTransformerConfig BENCH =
            new QwenImageTransformerConfig(2, 64, 16, 12, 64, 4, 64, new int[] {16, 24, 24});

    /** The published Qwen/Qwen-Image values (= diffusers constructor defaults). */
    private static final QwenImageTransformerConfig DEFAULTS =
            new QwenImageTransformerConfig(2, 64, 16, 60, 128, 24, 3584, new int[] {16, 56, 56});

    private static final String[] REJECTED_FLAGS = {"use_additional_t_cond", "use_layer3d_rope"};

    /** A config without {@code zero_cond_t} (Qwen-Image, Edit, Edit-2509). */
    public QwenImageTransformerConfig(int patchSize, int inChannels, int outChannels, int numLayers,
            int attentionHeadDim, int numAttentionHeads, int jointAttentionDim, int[] axesDimsRope) {
        this(patchSize, inChannels, outChannels, numLayers, attentionHeadDim, numAttentionHeads, jointAttentionDim,
                axesDimsRope, false);
    }

    /** This config with {@code zero_cond_t} set (Edit-2511: condition-image tokens modulated at t = 0). */
    public QwenImageTransformerConfig withZeroCondT(boolean on) {
        return new QwenImageTransformerConfig(patchSize, inChannels, outChannels, numLayers, attentionHeadDim,
                numAttentionHeads, jointAttentionDim, axesDimsRope, on);
    }

    public QwenImageTransformerConfig {
        axesDimsRope = axesDimsRope == null ? null : axesDimsRope.clone();
        validate(patchSize, inChannels, outChannels, numLayers, attentionHeadDim, numAttentionHeads,
                jointAttentionDim, axesDimsRope);
    }

    /** A copy: the record stays immutable. */
    @Override
    public int[] axesDimsRope() {
        return axesDimsRope.clone();
    }

    /** DiT width {@code D = num_attention_heads · attention_head_dim}. */
    public int innerDim() {
        return numAttentionHeads * attentionHeadDim;
    }

    /** Width of the velocity output per token: {@code patch_size² · out_channels}. */
    public int outputDim() {
        return patchSize * patchSize * outChannels;
    }

    /** Reads a {@code transformer/config.json}; throws {@link IllegalArgumentException} naming the offending keys. */
    public static QwenImageTransformerConfig fromJson(JsonNode json) {
        ConfigJson c = new ConfigJson(json, FILE);
        c.requireClassName(CLASS_NAME);
        for (String flag : REJECTED_FLAGS) {
            if (c.bool(flag, false)) {
                throw c.bad(flag + " = true selects a Qwen-Image variant (Layered) that is not supported;"
                        + " it must be absent or false");
            }
        }
        int in = c.integer("in_channels", DEFAULTS.inChannels);
        // diffusers: out_channels defaults to 16; null or 0 means in_channels (`out_channels or in_channels`)
        int outChannels = c.integer("out_channels", c.isNull("out_channels") ? in : DEFAULTS.outChannels);
        if (outChannels == 0) {
            outChannels = in;
        }
        return new QwenImageTransformerConfig(c.integer("patch_size", DEFAULTS.patchSize), in, outChannels,
                c.integer("num_layers", DEFAULTS.numLayers),
                c.integer("attention_head_dim", DEFAULTS.attentionHeadDim),
                c.integer("num_attention_heads", DEFAULTS.numAttentionHeads),
                c.integer("joint_attention_dim", DEFAULTS.jointAttentionDim),
                c.intArray("axes_dims_rope", 3, DEFAULTS.axesDimsRope), c.bool("zero_cond_t", false));
    }

    /** The config.json diffusers would write for this model (keys in diffusers' names). */
    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode().put("_class_name", CLASS_NAME)
                .put("patch_size", patchSize).put("in_channels", inChannels).put("out_channels", outChannels)
                .put("num_layers", numLayers).put("attention_head_dim", attentionHeadDim)
                .put("num_attention_heads", numAttentionHeads).put("joint_attention_dim", jointAttentionDim)
                .put("guidance_embeds", false).put("zero_cond_t", zeroCondT);
        ArrayNode axes = o.putArray("axes_dims_rope");
        for (int a : axesDimsRope) {
            axes.add(a);
        }
        return o;
    }

    /**
     * Writes every parameter tensor of the model (spec §2.1) with the diffusers names and shapes: linears with
     * std 1/√in and bias std 0.02, RMSNorm gains around 1.
     */
    public void writeRandomWeights(RandomWeights rnd) {
        long d = innerDim();
        rnd.linear("img_in", d, inChannels, true);
        rnd.gain("txt_norm.weight", jointAttentionDim);
        rnd.linear("txt_in", d, jointAttentionDim, true);
        TimestepSinusoid.writeSmoothFirstLinear(rnd, "time_text_embed.timestep_embedder.linear_1", d);
        rnd.gaussian("time_text_embed.timestep_embedder.linear_1.bias", 0.02, d);
        rnd.linear("time_text_embed.timestep_embedder.linear_2", d, d, true);
        for (int i = 0; i < numLayers; i++) {
            String p = "transformer_blocks." + i + ".";
            rnd.linear(p + "img_mod.1", 6 * d, d, true);
            rnd.linear(p + "txt_mod.1", 6 * d, d, true);
            for (String m : new String[] {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj",
                    "to_out.0", "to_add_out"}) {
                rnd.linear(p + "attn." + m, d, d, true);
            }
            for (String n : new String[] {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) {
                rnd.gain(p + "attn." + n + ".weight", attentionHeadDim);
            }
            for (String s : new String[] {"img_mlp", "txt_mlp"}) {
                rnd.linear(p + s + ".net.0.proj", 4 * d, d, true);
                rnd.linear(p + s + ".net.2", d, 4 * d, true);
            }
        }
        rnd.linear("norm_out.linear", 2 * d, d, true);
        rnd.linear("proj_out", outputDim(), d, true);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QwenImageTransformerConfig c && patchSize == c.patchSize && inChannels == c.inChannels
                && outChannels == c.outChannels && numLayers == c.numLayers && attentionHeadDim == c.attentionHeadDim
                && numAttentionHeads == c.numAttentionHeads && jointAttentionDim == c.jointAttentionDim
                && Arrays.equals(axesDimsRope, c.axesDimsRope) && zeroCondT == c.zeroCondT;
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(patchSize, inChannels, outChannels, numLayers, attentionHeadDim,
                numAttentionHeads, jointAttentionDim, zeroCondT) + Arrays.hashCode(axesDimsRope);
    }

    @Override
    public String toString() {
        return CLASS_NAME + toJson().without("_class_name");
    }

    // ---- validation ------------------------------------------------------------------------------------

    private static void validate(int patchSize, int inChannels, int outChannels, int numLayers, int headDim,
            int heads, int jointDim, int[] axes) {
        positive("patch_size", patchSize);
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        if (numLayers < 0) {
            throw bad("num_layers = " + numLayers + " must be >= 0");
        }
        positive("attention_head_dim", headDim);
        positive("num_attention_heads", heads);
        positive("joint_attention_dim", jointDim);
        if ((long) heads * headDim > Integer.MAX_VALUE / 6) {
            throw bad("num_attention_heads · attention_head_dim = " + (long) heads * headDim + " is too large");
        }
        if (axes == null || axes.length != 3) {
            throw bad("axes_dims_rope must list 3 axis dims (frame, height, width), got "
                    + (axes == null ? "none" : Arrays.toString(axes)));
        }
        int sum = 0;
        for (int a : axes) {
            if (a < 0 || a % 2 != 0) {
                throw bad("axes_dims_rope " + Arrays.toString(axes) + ": every axis dim must be even and >= 0"
                        + " (RoPE rotates channel pairs)");
            }
            sum += a;
        }
        if (sum != headDim) {
            throw bad("sum(axes_dims_rope) = " + sum + " " + Arrays.toString(axes) + " must equal attention_head_dim = "
                    + headDim);
        }
        if (patchSize != 2) {
            throw bad("patch_size = " + patchSize + " must be 2 (the Qwen-Image pipeline packs 2×2 latent patches)");
        }
        if ((long) patchSize * patchSize * outChannels != inChannels) {
            throw bad("patch_size² · out_channels = " + patchSize * patchSize * outChannels
                    + " must equal in_channels = " + inChannels
                    + " (the velocity must have the packed latent's shape)");
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
