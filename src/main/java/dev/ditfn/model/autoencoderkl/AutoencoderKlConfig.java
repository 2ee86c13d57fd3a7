package dev.ditfn.model.autoencoderkl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code vae/config.json} of a diffusers {@code AutoencoderKL} (the FLUX.1 / Z-Image VAE; diffusers
 * {@code autoencoders/autoencoder_kl.py}, {@code autoencoders/vae.py}), plus the encoder and decoder layout it implies.
 *
 * <p>Keys are exactly the parameters of {@code AutoencoderKL.__init__}; keys starting with {@code _}
 * ({@code _class_name}, {@code _diffusers_version}, {@code _name_or_path}) are metadata and ignored, except that
 * {@code _class_name}, when written, must be {@code AutoencoderKL}. Any other key is refused: diffusers would ignore it
 * with a warning, but this decoder is written by hand and must not silently run a model it does not know. Absent or
 * {@code null} keys take the diffusers constructor defaults (which are <em>not</em> the FLUX values: a real config
 * writes every key). {@code act_fn} must be {@code silu} (or its diffusers alias {@code swish}), every down block
 * {@code DownEncoderBlock2D} and every up block {@code UpDecoderBlock2D}, one per entry of {@code block_out_channels}.
 * {@code latents_mean}/{@code latents_std} are carried but unused (the Flux/Z-Image pipelines scale with
 * {@code scaling_factor}/{@code shift_factor}); {@code sample_size} and {@code force_upcast} only matter to tiling and
 * to PyTorch's dtype choice and are carried for {@link #toJson()}.
 *
 * <p>Layout. Encoder: {@code conv_in} {@code in_channels → boc[0]}; down block {@code i} has {@code layers_per_block}
 * resnets {@code boc[i-1] → boc[i]} (first; {@code boc[-1] := boc[0]}) then {@code boc[i] → boc[i]}, and all but the
 * last a {@code Downsample2D} ({@code downsamplers.0.conv}, pad (0,1,0,1), 3×3 stride 2); a mid block (resnet,
 * attention, resnet) at {@code boc[-1]}; {@code conv_norm_out}, SiLU, {@code conv_out} to {@code 2·latent_channels}
 * (mean and log-variance); then {@code quant_conv} (1×1) when {@code use_quant_conv}. Decoder: optional
 * {@code post_quant_conv} (1×1), {@code conv_in} {@code latent_channels → boc[-1]}, the mid block, up block {@code i}
 * over {@code rev = reversed(boc)} with {@code layers_per_block + 1} resnets {@code rev[i-1] → rev[i]} (first;
 * {@code rev[-1] := rev[0]}), all but the last ending in an {@code Upsample2D} (nearest ×2 then {@code upsamplers.0.conv}
 * 3×3, channels kept); {@code conv_norm_out}, SiLU, {@code conv_out} to {@code out_channels}. Every GroupNorm has
 * {@code norm_num_groups} groups and eps {@code 1e-6}.
 */
public record AutoencoderKlConfig(int inChannels, int outChannels, int latentChannels, int[] blockOutChannels,
        int layersPerBlock, int normNumGroups, String actFn, List<String> downBlockTypes, List<String> upBlockTypes,
        boolean midBlockAddAttention, boolean useQuantConv, boolean usePostQuantConv, double scalingFactor,
        Double shiftFactor, float[] latentsMean, float[] latentsStd, boolean forceUpcast, int sampleSize) {

    public static final String CLASS_NAME = "AutoencoderKL";
    public static final String DOWN_BLOCK = "DownEncoderBlock2D";
    public static final String UP_BLOCK = "UpDecoderBlock2D";
    /** GroupNorm epsilon of every norm in the encoder and decoder (resnets, attention, conv_norm_out). */
    public static final float NORM_EPS = 1e-6f;
    private static final String FILE = "vae config.json";

    /** The parameters of {@code AutoencoderKL.__init__} (diffusers main, 2026): the only non-metadata keys read. */
    public static final Set<String> KEYS = Set.of("in_channels", "out_channels", "down_block_types", "up_block_types",
            "block_out_channels", "layers_per_block", "act_fn", "latent_channels", "norm_num_groups", "sample_size",
            "scaling_factor", "shift_factor", "latents_mean", "latents_std", "force_upcast", "use_quant_conv",
            "use_post_quant_conv", "mid_block_add_attention");

    /** The diffusers constructor defaults ({@code from_pretrained} of a config without keys). */
    public static final AutoencoderKlConfig DIFFUSERS_DEFAULTS = new AutoencoderKlConfig(3, 3, 4, new int[] {64}, 1,
            32, "silu", List.of(DOWN_BLOCK), List.of(UP_BLOCK), true, true, true, 0.18215, null, null, null, true, 32);

    /**
     * The FLUX.1 VAE, which Z-Image uses unchanged: block_out_channels [128, 256, 512, 512], 2 layers per block, 32
     * groups, 16 latent channels, no quant convs, scaling 0.3611, shift 0.1159; scale factor 8.
     */
    public static final AutoencoderKlConfig FLUX = new AutoencoderKlConfig(3, 3, 16, new int[] {128, 256, 512, 512},
            2, 32, "silu", List.of(DOWN_BLOCK, DOWN_BLOCK, DOWN_BLOCK, DOWN_BLOCK),
            List.of(UP_BLOCK, UP_BLOCK, UP_BLOCK, UP_BLOCK), true, false, false, 0.3611, 0.1159, null, null, true,
            1024);

    /**
     * A small VAE with FLUX's topology and scaling (scale factor 8, 16 latent channels, channel changes with a
     * {@code conv_shortcut} in both directions, mid attention): block_out_channels [16, 16, 32, 32], 1 layer per
     * block (2 resnets per up block), 8 groups.
     */
    public static final AutoencoderKlConfig TINY = new AutoencoderKlConfig(3, 3, 16, new int[] {16, 16, 32, 32}, 1,
            8, "silu", FLUX.downBlockTypes, FLUX.upBlockTypes, true, false, false, 0.3611, 0.1159, null, null, true,
            64);

    /** How a {@link Stage} ends. */
    public enum Resample {
        NONE, DOWN, UP
    }

    /**
     * One encoder down block ({@code encoder.down_blocks.i}) or decoder up block ({@code decoder.up_blocks.i}):
     * {@code resnets} resnets, the first {@code inDim → outDim} and the others {@code outDim → outDim}, then the
     * resampler, if any, at {@code outDim} channels ({@code downsamplers.0} halves H and W, {@code upsamplers.0}
     * doubles them).
     */
    public record Stage(String prefix, int inDim, int outDim, int resnets, Resample resample) {
        /** The name prefix of resnet {@code r}. */
        public String resnet(int r) {
            return prefix + ".resnets." + r;
        }

        /** Input channels of resnet {@code r}. */
        public int resnetIn(int r) {
            return r == 0 ? inDim : outDim;
        }

        /** The name prefix of the resampler ({@code downsamplers.0} or {@code upsamplers.0}); null when none. */
        public String resampler() {
            return switch (resample) {
                case NONE -> null;
                case DOWN -> prefix + ".downsamplers.0";
                case UP -> prefix + ".upsamplers.0";
            };
        }
    }

    /** Validates (messages name the config.json keys) and copies the arrays. */
    public AutoencoderKlConfig {
        require(inChannels >= 1, "in_channels must be >= 1, got " + inChannels);
        require(outChannels >= 1, "out_channels must be >= 1, got " + outChannels);
        require(latentChannels >= 1, "latent_channels must be >= 1, got " + latentChannels);
        require(normNumGroups >= 1, "norm_num_groups must be >= 1, got " + normNumGroups);
        require(blockOutChannels != null && blockOutChannels.length >= 1,
                "block_out_channels must be a non-empty list");
        for (int c : blockOutChannels) {
            require(c >= 1 && c % normNumGroups == 0, "block_out_channels entries must be positive multiples of "
                    + "norm_num_groups = " + normNumGroups + ", got " + Arrays.toString(blockOutChannels));
        }
        require(blockOutChannels.length <= 16, "block_out_channels has " + blockOutChannels.length
                + " entries; a scale factor of 2^" + (blockOutChannels.length - 1) + " is not supported");
        require(layersPerBlock >= 1, "layers_per_block must be >= 1, got " + layersPerBlock);
        require("silu".equals(actFn) || "swish".equals(actFn),
                "act_fn = \"" + actFn + "\" is not supported (only \"silu\", or its alias \"swish\")");
        int n = blockOutChannels.length;
        blockTypes("down_block_types", downBlockTypes, DOWN_BLOCK, n);
        blockTypes("up_block_types", upBlockTypes, UP_BLOCK, n);
        require(Double.isFinite(scalingFactor) && scalingFactor > 0,
                "scaling_factor must be finite and > 0, got " + scalingFactor);
        require(shiftFactor == null || Double.isFinite(shiftFactor), "shift_factor must be finite, got " + shiftFactor);
        statistics("latents_mean", latentsMean, latentChannels);
        statistics("latents_std", latentsStd, latentChannels);
        require(sampleSize >= 1, "sample_size must be >= 1, got " + sampleSize);
        blockOutChannels = blockOutChannels.clone();
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        latentsMean = latentsMean == null ? null : latentsMean.clone();
        latentsStd = latentsStd == null ? null : latentsStd.clone();
    }

    private static void blockTypes(String key, List<String> types, String only, int n) {
        require(types != null && types.size() == n, key + " must have len(block_out_channels) = " + n
                + " entries, got " + (types == null ? "none" : types.size()));
        for (String t : types) {
            require(only.equals(t), key + " entry \"" + t + "\" is not supported (only \"" + only + "\")");
        }
    }

    private static void statistics(String key, float[] values, int latentChannels) {
        if (values == null) {
            return;
        }
        require(values.length == latentChannels, key + " must have latent_channels = " + latentChannels
                + " entries, got " + values.length);
        for (float v : values) {
            require(Float.isFinite(v), key + " entries must be finite, got " + Arrays.toString(values));
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw ConfigJson.invalid(FILE, message);
        }
    }

    // ---- JSON ------------------------------------------------------------------------------------------

    /**
     * Reads {@code vae/config.json}: absent or null keys take the diffusers defaults; keys of the wrong type, unknown
     * keys and values outside what this implementation supports fail with a message naming the key.
     */
    public static AutoencoderKlConfig fromJson(JsonNode json) {
        ConfigJson c = new ConfigJson(json, FILE);
        c.requireClassName(CLASS_NAME);
        for (Iterator<String> it = json.fieldNames(); it.hasNext();) {
            String key = it.next();
            if (!key.startsWith("_") && !KEYS.contains(key)) {
                throw c.bad("unknown key " + key + " (AutoencoderKL takes " + new java.util.TreeSet<>(KEYS) + ")");
            }
        }
        AutoencoderKlConfig d = DIFFUSERS_DEFAULTS;
        int any = ConfigJson.ANY_LENGTH;
        return new AutoencoderKlConfig(
                c.integer("in_channels", d.inChannels),
                c.integer("out_channels", d.outChannels),
                c.integer("latent_channels", d.latentChannels),
                c.intArray("block_out_channels", any, d.blockOutChannels),
                c.integer("layers_per_block", d.layersPerBlock),
                c.integer("norm_num_groups", d.normNumGroups),
                c.string("act_fn", d.actFn),
                strings(c, json, "down_block_types", d.downBlockTypes),
                strings(c, json, "up_block_types", d.upBlockTypes),
                c.bool("mid_block_add_attention", d.midBlockAddAttention),
                c.bool("use_quant_conv", d.useQuantConv),
                c.bool("use_post_quant_conv", d.usePostQuantConv),
                c.number("scaling_factor", d.scalingFactor),
                c.has("shift_factor") ? Double.valueOf(c.number("shift_factor", 0)) : null,
                c.floatArray("latents_mean", any, null),
                c.floatArray("latents_std", any, null),
                c.bool("force_upcast", d.forceUpcast),
                c.integer("sample_size", d.sampleSize));
    }

    /** A list of strings ({@link ConfigJson} has no such read); absent or null gives {@code fallback}. */
    private static List<String> strings(ConfigJson c, JsonNode json, String key, List<String> fallback) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        boolean ok = v.isArray();
        for (JsonNode e : v) {
            ok &= e.isTextual();
        }
        if (!ok) {
            throw c.bad(key + " = " + v + " must be a list of strings");
        }
        List<String> out = new ArrayList<>();
        v.forEach(e -> out.add(e.textValue()));
        return out;
    }

    /** The diffusers {@code config.json} for this VAE: {@code _class_name} and every constructor key. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("_class_name", CLASS_NAME);
        o.put("act_fn", actFn);
        ints(o.putArray("block_out_channels"), blockOutChannels);
        downBlockTypes.forEach(o.putArray("down_block_types")::add);
        o.put("force_upcast", forceUpcast);
        o.put("in_channels", inChannels);
        o.put("latent_channels", latentChannels);
        floats(o, "latents_mean", latentsMean);
        floats(o, "latents_std", latentsStd);
        o.put("layers_per_block", layersPerBlock);
        o.put("mid_block_add_attention", midBlockAddAttention);
        o.put("norm_num_groups", normNumGroups);
        o.put("out_channels", outChannels);
        o.put("sample_size", sampleSize);
        o.put("scaling_factor", scalingFactor);
        if (shiftFactor == null) {
            o.putNull("shift_factor");
        } else {
            o.put("shift_factor", shiftFactor.doubleValue());
        }
        upBlockTypes.forEach(o.putArray("up_block_types")::add);
        o.put("use_post_quant_conv", usePostQuantConv);
        o.put("use_quant_conv", useQuantConv);
        return o;
    }

    private static void ints(ArrayNode a, int[] values) {
        for (int v : values) {
            a.add(v);
        }
    }

    private static void floats(ObjectNode o, String key, float[] values) {
        if (values == null) {
            o.putNull(key);
            return;
        }
        ArrayNode a = o.putArray(key);
        for (float v : values) {
            a.add(v);
        }
    }

    // ---- latent scaling --------------------------------------------------------------------------------

    /** {@code shift_factor}, 0 when the config has none. */
    public double shift() {
        return shiftFactor == null ? 0 : shiftFactor;
    }

    /**
     * The pipeline's latents to the decoder's input: {@code z = latents / scaling_factor + shift_factor} elementwise
     * in float32 (Z-Image / Flux {@code __call__}; a missing shift counts as 0). A new array is returned.
     */
    public float[] latentsToDecoderInput(float[] latents) {
        float scale = (float) scalingFactor;
        float shift = (float) shift();
        float[] z = new float[latents.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = latents[i] / scale + shift;
        }
        return z;
    }

    /**
     * The encoder's posterior sample or mean to the pipeline's latents: {@code (z - shift_factor) · scaling_factor}
     * elementwise in float32 (Z-Image img2img {@code prepare_latents}). A new array is returned.
     */
    public float[] encoderOutputToLatents(float[] z) {
        float scale = (float) scalingFactor;
        float shift = (float) shift();
        float[] latents = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            latents[i] = (z[i] - shift) * scale;
        }
        return latents;
    }

    // ---- derived sizes ---------------------------------------------------------------------------------

    /** Pixels per latent pixel along each side: {@code 2^(len(block_out_channels) - 1)} (8 for FLUX). */
    public int scaleFactor() {
        return 1 << (blockOutChannels.length - 1);
    }

    /** Channels of the mid blocks, the decoder's {@code conv_in} output and the encoder's last block. */
    public int midChannels() {
        return blockOutChannels[blockOutChannels.length - 1];
    }

    /** The encoder's down blocks in order, as diffusers {@code Encoder} builds them. */
    public List<Stage> encoderDownBlocks() {
        List<Stage> blocks = new ArrayList<>();
        int n = blockOutChannels.length;
        for (int i = 0; i < n; i++) {
            blocks.add(new Stage("encoder.down_blocks." + i, blockOutChannels[Math.max(0, i - 1)], blockOutChannels[i],
                    layersPerBlock, i == n - 1 ? Resample.NONE : Resample.DOWN));
        }
        return Collections.unmodifiableList(blocks);
    }

    /** The decoder's up blocks in order, as diffusers {@code Decoder} builds them (over reversed channels). */
    public List<Stage> decoderUpBlocks() {
        List<Stage> blocks = new ArrayList<>();
        int n = blockOutChannels.length;
        for (int i = 0; i < n; i++) {
            blocks.add(new Stage("decoder.up_blocks." + i, blockOutChannels[n - 1 - Math.max(0, i - 1)],
                    blockOutChannels[n - 1 - i], layersPerBlock + 1, i == n - 1 ? Resample.NONE : Resample.UP));
        }
        return Collections.unmodifiableList(blocks);
    }

    /** Every tensor of the VAE with its stored shape: encoder, decoder, quant_conv, post_quant_conv (module order). */
    public Map<String, long[]> tensorShapes() {
        Map<String, long[]> t = encoderTensorShapes();
        t.putAll(decoderTensorShapes());
        return t;
    }

    /** {@code encoder.*} and, when enabled, {@code quant_conv}. */
    public Map<String, long[]> encoderTensorShapes() {
        Map<String, long[]> t = new LinkedHashMap<>();
        conv(t, "encoder.conv_in", inChannels, blockOutChannels[0], 3);
        encoderDownBlocks().forEach(b -> stage(t, b));
        midBlock(t, "encoder.mid_block");
        norm(t, "encoder.conv_norm_out", midChannels());
        conv(t, "encoder.conv_out", midChannels(), 2 * latentChannels, 3);
        if (useQuantConv) {
            conv(t, "quant_conv", 2 * latentChannels, 2 * latentChannels, 1);
        }
        return t;
    }

    /** {@code decoder.*} and, when enabled, {@code post_quant_conv}. */
    public Map<String, long[]> decoderTensorShapes() {
        Map<String, long[]> t = new LinkedHashMap<>();
        conv(t, "decoder.conv_in", latentChannels, midChannels(), 3);
        midBlock(t, "decoder.mid_block");
        decoderUpBlocks().forEach(b -> stage(t, b));
        norm(t, "decoder.conv_norm_out", blockOutChannels[0]);
        conv(t, "decoder.conv_out", blockOutChannels[0], outChannels, 3);
        if (usePostQuantConv) {
            conv(t, "post_quant_conv", latentChannels, latentChannels, 1);
        }
        return t;
    }

    private static void stage(Map<String, long[]> t, Stage s) {
        for (int r = 0; r < s.resnets(); r++) {
            resnet(t, s.resnet(r), s.resnetIn(r), s.outDim());
        }
        if (s.resampler() != null) {
            conv(t, s.resampler() + ".conv", s.outDim(), s.outDim(), 3);
        }
    }

    private void midBlock(Map<String, long[]> t, String prefix) {
        int c = midChannels();
        if (midBlockAddAttention) {
            attention(t, prefix + ".attentions.0", c);
        }
        resnet(t, prefix + ".resnets.0", c, c);
        resnet(t, prefix + ".resnets.1", c, c);
    }

    /** The mid attention's tensors: {@code group_norm}, {@code to_q|to_k|to_v|to_out.0} Linear {@code C → C}. */
    static void attention(Map<String, long[]> t, String prefix, int c) {
        norm(t, prefix + ".group_norm", c);
        for (String proj : List.of("to_q", "to_k", "to_v", "to_out.0")) {
            t.put(prefix + "." + proj + ".weight", new long[] {c, c});
            t.put(prefix + "." + proj + ".bias", new long[] {c});
        }
    }

    /** A {@code ResnetBlock2D}'s tensors; {@code conv_shortcut} iff {@code in != out}. */
    static void resnet(Map<String, long[]> t, String prefix, int in, int out) {
        norm(t, prefix + ".norm1", in);
        conv(t, prefix + ".conv1", in, out, 3);
        norm(t, prefix + ".norm2", out);
        conv(t, prefix + ".conv2", out, out, 3);
        if (in != out) {
            conv(t, prefix + ".conv_shortcut", in, out, 1);
        }
    }

    static void norm(Map<String, long[]> t, String prefix, int channels) {
        t.put(prefix + ".weight", new long[] {channels});
        t.put(prefix + ".bias", new long[] {channels});
    }

    /** A {@code Conv2d(in, out, k)} with bias. */
    static void conv(Map<String, long[]> t, String prefix, int in, int out, int k) {
        t.put(prefix + ".weight", new long[] {out, in, k, k});
        t.put(prefix + ".bias", new long[] {out});
    }

    /**
     * Writes every tensor of {@link #tensorShapes()} with deterministic random values: GroupNorm gains
     * {@code 1 + 0.1·N(0,1)} and biases {@code 0.1·N(0,1)}; conv and linear weights {@code N(0, 1/fan_in)}, their
     * biases {@code 0.02·N(0,1)}; except the mid attention's {@code to_q}/{@code to_k}, drawn at {@code 1.5/√C}, so the
     * softmax over pixels is far from uniform and the attention changes the output visibly.
     */
    public void writeRandomWeights(RandomWeights rnd) {
        writeRandom(rnd, tensorShapes());
    }

    /** {@link #writeRandomWeights}' draw for any of this model's tensors (tests stage single blocks with it). */
    static void writeRandom(RandomWeights rnd, Map<String, long[]> shapes) {
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            long[] s = e.getValue();
            boolean isNorm = name.contains("norm");
            if (isNorm && name.endsWith(".weight")) {
                rnd.gain(name, s);
            } else if (name.endsWith(".bias")) {
                rnd.gaussian(name, isNorm ? 0.1 : 0.02, s);
            } else {
                long fanIn = s.length == 4 ? s[1] * s[2] * s[3] : s[1];
                boolean qk = name.endsWith(".to_q.weight") || name.endsWith(".to_k.weight");
                rnd.gaussian(name, (qk ? 1.5 : 1.0) / Math.sqrt(fanIn), s);
            }
        }
    }

    // ---- value semantics for the array components ------------------------------------------------------

    @Override
    public int[] blockOutChannels() {
        return blockOutChannels.clone();
    }

    @Override
    public float[] latentsMean() {
        return latentsMean == null ? null : latentsMean.clone();
    }

    @Override
    public float[] latentsStd() {
        return latentsStd == null ? null : latentsStd.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AutoencoderKlConfig c && inChannels == c.inChannels && outChannels == c.outChannels
                && latentChannels == c.latentChannels && Arrays.equals(blockOutChannels, c.blockOutChannels)
                && layersPerBlock == c.layersPerBlock && normNumGroups == c.normNumGroups && actFn.equals(c.actFn)
                && downBlockTypes.equals(c.downBlockTypes) && upBlockTypes.equals(c.upBlockTypes)
                && midBlockAddAttention == c.midBlockAddAttention && useQuantConv == c.useQuantConv
                && usePostQuantConv == c.usePostQuantConv && scalingFactor == c.scalingFactor
                && Objects.equals(shiftFactor, c.shiftFactor) && Arrays.equals(latentsMean, c.latentsMean)
                && Arrays.equals(latentsStd, c.latentsStd) && forceUpcast == c.forceUpcast
                && sampleSize == c.sampleSize;
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(inChannels, outChannels, latentChannels, layersPerBlock, normNumGroups, actFn,
                downBlockTypes, upBlockTypes, midBlockAddAttention, useQuantConv, usePostQuantConv, scalingFactor,
                shiftFactor, forceUpcast, sampleSize);
        h = 31 * h + Arrays.hashCode(blockOutChannels);
        h = 31 * h + Arrays.hashCode(latentsMean);
        return 31 * h + Arrays.hashCode(latentsStd);
    }

    @Override
    public String toString() {
        return CLASS_NAME + "[block_out_channels=" + Arrays.toString(blockOutChannels) + ", layers_per_block="
                + layersPerBlock + ", norm_num_groups=" + normNumGroups + ", latent_channels=" + latentChannels
                + ", in/out_channels=" + inChannels + "/" + outChannels + ", mid_block_add_attention="
                + midBlockAddAttention + ", use_quant_conv=" + useQuantConv + ", use_post_quant_conv="
                + usePostQuantConv + ", scaling_factor=" + scalingFactor + ", shift_factor=" + shiftFactor + "]";
    }
}
