package dev.ditfn.model.qwenimage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.ConfigJson;
import dev.ditfn.weights.RandomWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code vae/config.json} of an {@code AutoencoderKLQwenImage} (diffusers {@code autoencoder_kl_qwenimage.py}), plus
 * the decoder layout it implies. Keys absent from a config take the diffusers constructor defaults (those are the
 * published Qwen-Image values), as {@code from_pretrained} would. {@code dropout} is read nowhere (inference) and
 * {@code input_channels} must be 3 (the decoder's output is RGB).
 *
 * <p>Decoder layout (diffusers {@code QwenImageDecoder3d}): {@code dims = [base·dim_mult[-1]] ++ [base·m for m in
 * reversed(dim_mult)]}; up block {@code i} maps {@code in_i → dims[i+1]} with {@code in_0 = dims[0]} and
 * {@code in_i = dims[i] / 2} for {@code i > 0} (the previous block's upsampler halved its channels); every block has
 * {@code num_res_blocks + 1} residual blocks; all but the last end in an upsampler ({@code upsample3d} where
 * {@code reversed(temperal_downsample)[i]}, else {@code upsample2d}) mapping {@code C → C/2}. Attention appears only
 * in the mid block ({@code attn_scales} affects the encoder only).
 *
 * <p>Encoder layout (diffusers {@code QwenImageEncoder3d}, generated snapshots carry it so that they load as whole
 * diffusers models): {@code dims = [base·m for m in [1] ++ dim_mult]}; stage {@code i} appends to the flat
 * {@code down_blocks} list {@code num_res_blocks} residual blocks {@code dims[i] → dims[i+1]} (each followed by an
 * attention block while the stage's scale, 1 halved per downsample, is in {@code attn_scales}), then, except for the
 * last stage, a downsampler ({@code downsample3d} with a {@code time_conv} where {@code temperal_downsample[i]}, else
 * {@code downsample2d}); then a mid block, {@code norm_out} and {@code conv_out} to {@code 2·z_dim} channels (mean and
 * log-variance), and the top-level {@code quant_conv}.
 */
public record QwenImageVaeConfig(int baseDim, int zDim, int[] dimMult, int numResBlocks, double[] attnScales,
        boolean[] temperalDownsample, float[] latentsMean, float[] latentsStd) {

    public static final String CLASS_NAME = "AutoencoderKLQwenImage";
    private static final String FILE = "vae config.json";
    /** Channels of the decoded image (diffusers {@code input_channels}, fixed to RGB here). */
    public static final int IMAGE_CHANNELS = 3;

    /** The published Qwen-Image {@code latents_mean} (also the diffusers constructor default). */
    public static final float[] QWEN_IMAGE_LATENTS_MEAN = {-0.7571f, -0.7089f, -0.9113f, 0.1075f, -0.1745f, 0.9653f,
        -0.1517f, 1.5508f, 0.4134f, -0.0715f, 0.5517f, -0.3632f, -0.1922f, -0.9497f, 0.2503f, -0.2921f};
    /** The published Qwen-Image {@code latents_std} (also the diffusers constructor default). */
    public static final float[] QWEN_IMAGE_LATENTS_STD = {2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f,
        2.6052f, 2.0743f, 3.2687f, 2.1526f, 2.8652f, 1.5579f, 1.6382f, 1.1253f, 2.8251f, 1.9160f};

    /** The published {@code Qwen/Qwen-Image} VAE: decoder dims [384, 384, 384, 192, 96], scale factor 8. */
    public static final QwenImageVaeConfig QWEN_IMAGE = new QwenImageVaeConfig(96, 16, new int[] {1, 2, 4, 4}, 2,
            new double[0], new boolean[] {false, true, true}, QWEN_IMAGE_LATENTS_MEAN, QWEN_IMAGE_LATENTS_STD);

    /**
     * A small decoder with the real topology (scale factor 8, upsample3d, upsample3d, upsample2d, a shortcut in
     * {@code up_blocks.1.resnets.0}) and the real latent statistics: dims [64, 64, 64, 32, 16], two residual blocks
     * per up block.
     */
    public static final QwenImageVaeConfig TINY = new QwenImageVaeConfig(16, 16, new int[] {1, 2, 4, 4}, 1,
            new double[0], new boolean[] {false, true, true}, QWEN_IMAGE_LATENTS_MEAN, QWEN_IMAGE_LATENTS_STD);

    /** How an up block ends. */
    public enum Upsample {
        NONE, UPSAMPLE_2D, UPSAMPLE_3D
    }

    /**
     * One decoder up block: {@code num_res_blocks + 1} residual blocks {@code inDim → outDim} (the first may have a
     * shortcut), then the upsampler, if any, {@code outDim → outDim / 2} at twice the resolution.
     */
    public record UpBlock(int index, int inDim, int outDim, int resnets, Upsample upsample) {
        /** Channels this block hands on. */
        public int outputDim() {
            return upsample == Upsample.NONE ? outDim : outDim / 2;
        }
    }

    /** What one entry of the encoder's flat {@code down_blocks} list is. */
    public enum DownLayer {
        RESIDUAL, ATTENTION, DOWNSAMPLE_2D, DOWNSAMPLE_3D
    }

    /**
     * Entry {@code index} of {@code encoder.down_blocks}: a residual block {@code inDim → outDim}, an attention block
     * or a downsampler (both at {@code inDim = outDim}; a downsampler halves H and W).
     */
    public record DownBlock(int index, DownLayer layer, int inDim, int outDim) {
    }

    /** Validates the rules of spec §6 and copies the arrays; messages name the config.json keys. */
    public QwenImageVaeConfig {
        require(baseDim >= 1, "base_dim must be >= 1, got " + baseDim);
        require(zDim >= 1, "z_dim must be >= 1, got " + zDim);
        require(dimMult != null && dimMult.length >= 1, "dim_mult must be a non-empty list");
        for (int m : dimMult) {
            require(m >= 1, "dim_mult entries must be >= 1, got " + Arrays.toString(dimMult));
        }
        require(numResBlocks >= 0, "num_res_blocks must be >= 0, got " + numResBlocks);
        require(attnScales != null, "attn_scales must be a list (may be empty)");
        require(temperalDownsample != null && temperalDownsample.length == dimMult.length - 1,
                "temperal_downsample must have len(dim_mult) - 1 = " + (dimMult.length - 1) + " entries (one per "
                        + "resample), got " + (temperalDownsample == null ? "none" : temperalDownsample.length));
        require(latentsMean != null && latentsMean.length == zDim, "latents_mean must have z_dim = " + zDim
                + " entries, got " + (latentsMean == null ? "none" : latentsMean.length));
        require(latentsStd != null && latentsStd.length == zDim, "latents_std must have z_dim = " + zDim
                + " entries, got " + (latentsStd == null ? "none" : latentsStd.length));
        for (int c = 0; c < zDim; c++) {
            require(Float.isFinite(latentsMean[c]), "latents_mean[" + c + "] must be finite, got " + latentsMean[c]);
            require(Float.isFinite(latentsStd[c]) && latentsStd[c] > 0,
                    "latents_std[" + c + "] must be finite and > 0, got " + latentsStd[c]);
        }
        for (int i = 0; i + 1 < dimMult.length; i++) {
            int out = baseDim * dimMult[dimMult.length - 1 - i];
            require(out >= 2, "base_dim * dim_mult[" + (dimMult.length - 1 - i) + "] = " + out
                    + " is upsampled to half its channels and must be >= 2");
        }
        dimMult = dimMult.clone();
        attnScales = attnScales.clone();
        temperalDownsample = temperalDownsample.clone();
        latentsMean = latentsMean.clone();
        latentsStd = latentsStd.clone();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw ConfigJson.invalid(FILE, message);
        }
    }

    // ---- JSON ------------------------------------------------------------------------------------------

    /**
     * Reads {@code vae/config.json}. Absent or null keys take the diffusers defaults; keys of the wrong type or
     * violating the spec §6 rules fail with a message naming the key.
     */
    public static QwenImageVaeConfig fromJson(JsonNode json) {
        ConfigJson c = new ConfigJson(json, FILE);
        c.requireClassName(CLASS_NAME);
        int inputChannels = c.integer("input_channels", IMAGE_CHANNELS);
        if (inputChannels != IMAGE_CHANNELS) {
            throw c.bad("input_channels = " + inputChannels + " must be " + IMAGE_CHANNELS + " (RGB)");
        }
        QwenImageVaeConfig d = QWEN_IMAGE;
        int any = ConfigJson.ANY_LENGTH;
        return new QwenImageVaeConfig(
                c.integer("base_dim", d.baseDim),
                c.integer("z_dim", d.zDim),
                c.intArray("dim_mult", any, d.dimMult),
                c.integer("num_res_blocks", d.numResBlocks),
                c.doubleArray("attn_scales", any, d.attnScales),
                c.boolArray("temperal_downsample", any, d.temperalDownsample),
                c.floatArray("latents_mean", any, d.latentsMean),
                c.floatArray("latents_std", any, d.latentsStd));
    }

    /** The diffusers {@code config.json} for this VAE ({@code _class_name}, all constructor keys). */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("_class_name", CLASS_NAME);
        o.put("base_dim", baseDim);
        o.put("z_dim", zDim);
        ArrayNode dm = o.putArray("dim_mult");
        for (int m : dimMult) {
            dm.add(m);
        }
        o.put("num_res_blocks", numResBlocks);
        ArrayNode as = o.putArray("attn_scales");
        for (double s : attnScales) {
            as.add(s);
        }
        ArrayNode td = o.putArray("temperal_downsample");
        for (boolean b : temperalDownsample) {
            td.add(b);
        }
        o.put("dropout", 0.0);
        o.put("input_channels", IMAGE_CHANNELS);
        ArrayNode mean = o.putArray("latents_mean");
        for (float v : latentsMean) {
            mean.add(v);
        }
        ArrayNode std = o.putArray("latents_std");
        for (float v : latentsStd) {
            std.add(v);
        }
        return o;
    }

    // ---- derived sizes ---------------------------------------------------------------------------------

    /** Pixels per latent pixel along each side: {@code 2^len(temperal_downsample)} (8 for Qwen-Image). */
    public int scaleFactor() {
        return 1 << temperalDownsample.length;
    }

    /**
     * Decoder channel plan {@code [base·dim_mult[-1]] ++ [base·m for m in reversed(dim_mult)]}; {@code [384, 384,
     * 384, 192, 96]} for Qwen-Image.
     */
    public int[] decoderDims() {
        int[] dims = new int[dimMult.length + 1];
        dims[0] = baseDim * dimMult[dimMult.length - 1];
        for (int i = 0; i < dimMult.length; i++) {
            dims[i + 1] = baseDim * dimMult[dimMult.length - 1 - i];
        }
        return dims;
    }

    /** Channels of the decoder's {@code conv_in} output, mid block and first up block input. */
    public int decoderMidDim() {
        return decoderDims()[0];
    }

    /** The decoder's up blocks in order, as diffusers {@code QwenImageDecoder3d} builds them. */
    public List<UpBlock> decoderUpBlocks() {
        int[] dims = decoderDims();
        List<UpBlock> blocks = new ArrayList<>();
        for (int i = 0; i < dimMult.length; i++) {
            int in = i == 0 ? dims[0] : dims[i] / 2;
            Upsample up = i == dimMult.length - 1 ? Upsample.NONE
                    : temperalDownsample[temperalDownsample.length - 1 - i] ? Upsample.UPSAMPLE_3D
                    : Upsample.UPSAMPLE_2D;
            blocks.add(new UpBlock(i, in, dims[i + 1], numResBlocks + 1, up));
        }
        return Collections.unmodifiableList(blocks);
    }

    /** Every tensor of the VAE with its stored shape, in diffusers' state-dict order: encoder, then decoder. */
    public Map<String, long[]> tensorShapes() {
        Map<String, long[]> t = encoderTensorShapes();
        t.putAll(decoderTensorShapes());
        return t;
    }

    /**
     * Every tensor of {@code encoder.*} and {@code quant_conv} with its stored shape, in module order; includes
     * {@code downsample3d}'s {@code time_conv} tensors, which single images never use.
     */
    public Map<String, long[]> encoderTensorShapes() {
        Map<String, long[]> t = new LinkedHashMap<>();
        causalConv(t, "encoder.conv_in", IMAGE_CHANNELS, baseDim, 3);
        for (DownBlock b : encoderDownBlocks()) {
            String p = "encoder.down_blocks." + b.index();
            int out = b.outDim();
            switch (b.layer()) {
                case RESIDUAL -> residual(t, p, b.inDim(), out);
                case ATTENTION -> attention(t, p, out);
                case DOWNSAMPLE_2D, DOWNSAMPLE_3D -> {
                    t.put(p + ".resample.1.weight", new long[] {out, out, 3, 3});
                    t.put(p + ".resample.1.bias", new long[] {out});
                    if (b.layer() == DownLayer.DOWNSAMPLE_3D) {
                        t.put(p + ".time_conv.weight", new long[] {out, out, 3, 1, 1});
                        t.put(p + ".time_conv.bias", new long[] {out});
                    }
                }
            }
        }
        int top = encoderTopDim();
        midBlock(t, "encoder.mid_block", top);
        t.put("encoder.norm_out.gamma", new long[] {top, 1, 1, 1});
        causalConv(t, "encoder.conv_out", top, 2 * zDim, 3);
        causalConv(t, "quant_conv", 2 * zDim, 2 * zDim, 1);
        return t;
    }

    /** Channels of the encoder's last stage, mid block and {@code norm_out}: {@code base·dim_mult[-1]}. */
    public int encoderTopDim() {
        return baseDim * dimMult[dimMult.length - 1];
    }

    /**
     * The encoder's flat {@code down_blocks} list as diffusers {@code QwenImageEncoder3d} builds it: with
     * {@code dims = [base·m for m in [1] ++ dim_mult]}, stage {@code i} appends {@code num_res_blocks} residual blocks
     * {@code dims[i] → dims[i+1]} (the first may have a shortcut), each followed by an attention block while the
     * stage's scale (1, halved per downsample) is in {@code attn_scales}; every stage but the last ends in a
     * downsampler ({@code downsample3d} where {@code temperal_downsample[i]}, else {@code downsample2d}).
     */
    public List<DownBlock> encoderDownBlocks() {
        List<DownBlock> blocks = new ArrayList<>();
        double scale = 1.0;
        for (int i = 0; i < dimMult.length; i++) {
            int in = i == 0 ? baseDim : baseDim * dimMult[i - 1];
            int out = baseDim * dimMult[i];
            for (int r = 0; r < numResBlocks; r++) {
                blocks.add(new DownBlock(blocks.size(), DownLayer.RESIDUAL, in, out));
                if (hasAttnScale(scale)) {
                    blocks.add(new DownBlock(blocks.size(), DownLayer.ATTENTION, out, out));
                }
                in = out;
            }
            if (i != dimMult.length - 1) {
                DownLayer mode = temperalDownsample[i] ? DownLayer.DOWNSAMPLE_3D : DownLayer.DOWNSAMPLE_2D;
                blocks.add(new DownBlock(blocks.size(), mode, out, out));
                scale /= 2;
            }
        }
        return Collections.unmodifiableList(blocks);
    }

    /** {@code scale in attn_scales}, as Python compares a float with the list's numbers. */
    private boolean hasAttnScale(double scale) {
        for (double s : attnScales) {
            if (s == scale) {
                return true;
            }
        }
        return false;
    }

    /**
     * Every tensor of {@code post_quant_conv} and {@code decoder.*} with its stored shape, in module order (causal
     * convs 5-D {@code [out, in, kT, kH, kW]}, 2-D convs 4-D, norm gains {@code [C,1,1,1]} or {@code [C,1,1]} in the
     * attention block); includes {@code upsample3d}'s {@code time_conv} tensors, which single images never use.
     */
    public Map<String, long[]> decoderTensorShapes() {
        Map<String, long[]> t = new LinkedHashMap<>();
        causalConv(t, "post_quant_conv", zDim, zDim, 1);
        int mid = decoderMidDim();
        causalConv(t, "decoder.conv_in", zDim, mid, 3);
        midBlock(t, "decoder.mid_block", mid);
        int out = mid;
        for (UpBlock b : decoderUpBlocks()) {
            String p = "decoder.up_blocks." + b.index();
            for (int r = 0; r < b.resnets(); r++) {
                residual(t, p + ".resnets." + r, r == 0 ? b.inDim() : b.outDim(), b.outDim());
            }
            if (b.upsample() != Upsample.NONE) {
                String u = p + ".upsamplers.0";
                if (b.upsample() == Upsample.UPSAMPLE_3D) {
                    t.put(u + ".time_conv.weight", new long[] {2L * b.outDim(), b.outDim(), 3, 1, 1});
                    t.put(u + ".time_conv.bias", new long[] {2L * b.outDim()});
                }
                t.put(u + ".resample.1.weight", new long[] {b.outDim() / 2, b.outDim(), 3, 3});
                t.put(u + ".resample.1.bias", new long[] {b.outDim() / 2});
            }
            out = b.outputDim();
        }
        t.put("decoder.norm_out.gamma", new long[] {out, 1, 1, 1});
        causalConv(t, "decoder.conv_out", out, IMAGE_CHANNELS, 3);
        return t;
    }

    private static void causalConv(Map<String, long[]> t, String prefix, int in, int out, int k) {
        t.put(prefix + ".weight", new long[] {out, in, k, k, k});
        t.put(prefix + ".bias", new long[] {out});
    }

    private static void midBlock(Map<String, long[]> t, String prefix, int dim) {
        residual(t, prefix + ".resnets.0", dim, dim);
        attention(t, prefix + ".attentions.0", dim);
        residual(t, prefix + ".resnets.1", dim, dim);
    }

    private static void attention(Map<String, long[]> t, String prefix, int dim) {
        t.put(prefix + ".norm.gamma", new long[] {dim, 1, 1});
        t.put(prefix + ".to_qkv.weight", new long[] {3L * dim, dim, 1, 1});
        t.put(prefix + ".to_qkv.bias", new long[] {3L * dim});
        t.put(prefix + ".proj.weight", new long[] {dim, dim, 1, 1});
        t.put(prefix + ".proj.bias", new long[] {dim});
    }

    private static void residual(Map<String, long[]> t, String prefix, int in, int out) {
        t.put(prefix + ".norm1.gamma", new long[] {in, 1, 1, 1});
        causalConv(t, prefix + ".conv1", in, out, 3);
        t.put(prefix + ".norm2.gamma", new long[] {out, 1, 1, 1});
        causalConv(t, prefix + ".conv2", out, out, 3);
        if (in != out) {
            causalConv(t, prefix + ".conv_shortcut", in, out, 1);
        }
    }

    /**
     * Writes every tensor of the VAE ({@link #tensorShapes()}) with deterministic random values: norm gains
     * {@code 1 + 0.1·N(0,1)}, biases {@code 0.02·N(0,1)}, weights {@code N(0, 1/fan_in)} with {@code fan_in = in·kH·kW}
     * (the spatial taps one frame sees), which keeps activations of order 1 through the stack.
     */
    public void writeRandomWeights(RandomWeights rnd) {
        for (Map.Entry<String, long[]> e : tensorShapes().entrySet()) {
            String name = e.getKey();
            long[] s = e.getValue();
            if (name.endsWith(".gamma")) {
                rnd.gain(name, s);
            } else if (name.endsWith(".bias")) {
                rnd.gaussian(name, 0.02, s);
            } else {
                long fanIn = s[1] * s[s.length - 2] * s[s.length - 1];
                rnd.gaussian(name, 1.0 / Math.sqrt(fanIn), s);
            }
        }
    }

    // ---- value semantics for the array components --------------------------------------------------------

    @Override
    public int[] dimMult() {
        return dimMult.clone();
    }

    @Override
    public double[] attnScales() {
        return attnScales.clone();
    }

    @Override
    public boolean[] temperalDownsample() {
        return temperalDownsample.clone();
    }

    @Override
    public float[] latentsMean() {
        return latentsMean.clone();
    }

    @Override
    public float[] latentsStd() {
        return latentsStd.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QwenImageVaeConfig c && baseDim == c.baseDim && zDim == c.zDim
                && numResBlocks == c.numResBlocks && Arrays.equals(dimMult, c.dimMult)
                && Arrays.equals(attnScales, c.attnScales) && Arrays.equals(temperalDownsample, c.temperalDownsample)
                && Arrays.equals(latentsMean, c.latentsMean) && Arrays.equals(latentsStd, c.latentsStd);
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(baseDim);
        h = 31 * h + zDim;
        h = 31 * h + numResBlocks;
        h = 31 * h + Arrays.hashCode(dimMult);
        h = 31 * h + Arrays.hashCode(attnScales);
        h = 31 * h + Arrays.hashCode(temperalDownsample);
        h = 31 * h + Arrays.hashCode(latentsMean);
        return 31 * h + Arrays.hashCode(latentsStd);
    }

    @Override
    public String toString() {
        return CLASS_NAME + "[base_dim=" + baseDim + ", z_dim=" + zDim + ", dim_mult=" + Arrays.toString(dimMult)
                + ", num_res_blocks=" + numResBlocks + ", attn_scales=" + Arrays.toString(attnScales)
                + ", temperal_downsample=" + Arrays.toString(temperalDownsample) + "]";
    }
}
