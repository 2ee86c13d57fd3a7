package dev.ditfn.model.qwenimage;

import dev.ditfn.dit.SegmentGraphs;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TimestepSinusoid;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;
import dev.ditfn.onnx.WeightQuantization;

import java.util.List;

/**
 * ONNX graphs of the Qwen-Image DiT ({@code QwenImageTransformer2DModel}, spec §2), one per
 * {@link TransformerSegment}, over the diffusers weight names.
 *
 * <p>Graph interface (symbolic dims {@code B} batch, {@code N} image tokens, {@code L} text tokens; {@code D} width,
 * {@code hd} head dim; activations in {@link GraphTarget#activationType()}):
 * <ul>
 *   <li>prologue segments take {@code hidden_states [B, N, in_channels]}, {@code encoder_hidden_states
 *       [B, L, joint_attention_dim]} and {@code timestep [B]} (float32 sigma in (0, 1]);</li>
 *   <li>other segments take {@code img [B, N, D]} and {@code temb [B, D]}, and those with blocks {@code txt [B, L, D]}
 *       (the epilogue does not read the text stream);</li>
 *   <li>every segment takes the RoPE tables {@code img_cos, img_sin [N, hd/2]} and {@code txt_cos, txt_sin [L, hd/2]}
 *       (float32, layout of {@link QwenRope}), used or not;</li>
 *   <li>a segment without epilogue outputs {@code img_out}, {@code txt_out} (and {@code temb_out} with the
 *       prologue); with the epilogue it outputs {@code velocity [B, N, patch²·out_channels]};</li>
 *   <li>with {@link TransformerSegment#modulatedInput()} it also outputs {@code modulated_input [B, N, D]}: block
 *       {@code from}'s {@code LayerNorm(img)·(1 + scale1) + shift1} (TeaCache's probe).</li>
 *   <li>a prologue without blocks computes block 0's image modulation {@code img_mod.1(SiLU(temb))} (it needs it for
 *       the probe) and outputs it as {@code img_mod_0_out [B, 1, 6D]}; a segment that starts at block 0 without the
 *       prologue takes it as {@code img_mod_0}. So those weights live in one session only.</li>
 *   <li>with {@code zero_cond_t} (Edit-2511) the image tokens are modulated per token: {@code cond_tokens [N, 1]}
 *       marks Edit's condition-image tokens, which take the modulation of the t = 0 embedding {@code temb_zero}
 *       (made by the prologue, handed on like {@code temb}); the handed-over block-0 modulation is then
 *       {@code [B, N, 6D]}. Text tokens and the output head use {@code temb}, as upstream.</li>
 * </ul>
 * Without a text mask, a single unpadded prompt per call (spec §2.3 step 6, mask absent). Built with
 * {@code textMask}, every segment with blocks also takes {@code txt_bias [B, 1, 1, L]} (float32, 0 on real text
 * tokens, -inf on padding), added to the attention scores of the text keys only (image keys get 0), so a batch of
 * prompts of different lengths can be padded to the longest; padded text rows compute garbage that no real row sees.
 *
 * <p>Precision: norm statistics, RoPE, softmax (fp16: MultiHeadAttention's own) and the timestep sinusoid run in
 * fp32; with fp16 activations the streams are clipped to ±65504 after each block, as upstream does.
 */
public final class QwenImageTransformer implements SegmentGraphs {
    public static final String HIDDEN_STATES = "hidden_states";
    public static final String ENCODER_HIDDEN_STATES = "encoder_hidden_states";
    public static final String TIMESTEP = "timestep";
    public static final String IMG = "img";
    public static final String TXT = "txt";
    public static final String TEMB = "temb";
    public static final String IMG_COS = "img_cos";
    public static final String IMG_SIN = "img_sin";
    public static final String TXT_COS = "txt_cos";
    public static final String TXT_SIN = "txt_sin";
    public static final String IMG_OUT = "img_out";
    public static final String TXT_OUT = "txt_out";
    public static final String TEMB_OUT = "temb_out";
    public static final String VELOCITY = SegmentedTransformer.VELOCITY;
    public static final String MODULATED_INPUT = SegmentedTransformer.PROBE;
    /** Block 0's image modulation, handed from a prologue-only segment to the segment that runs block 0. */
    public static final String IMG_MOD_0 = "img_mod_0";
    /** With {@code zero_cond_t}: the timestep embedding of t = 0, which modulates Edit's condition-image tokens. */
    public static final String TEMB_ZERO = "temb_zero";
    /** With {@code zero_cond_t}: {@code [N, 1]}, 1 on the condition-image tokens (upstream's {@code modulate_index}). */
    public static final String COND_TOKENS = "cond_tokens";
    /** With a text mask: {@code [B, 1, 1, L]} float32, 0 on real text tokens, -inf on padding. */
    public static final String TXT_BIAS = "txt_bias";
    /** Rows of a handed-over image modulation: 1, or N with per-token modulation. */
    private static final String MOD_ROWS = "M";
    /** The image and text streams, image first: DBCache measures the image stream's Fn residual, as upstream. */
    static final List<String> STREAMS = List.of(IMG, TXT);

    /** Channels of the sinusoidal timestep projection ({@code Timesteps(num_channels=256)}). */
    public static final int TIMESTEP_CHANNELS = TimestepSinusoid.CHANNELS;
    /** Every norm of the model (txt_norm, QK norms, block LayerNorms, norm_out) uses this epsilon. */
    public static final float EPS = 1e-6f;
    static final float FP16_MAX = 65504f;
    private static final String BATCH = "B";
    private static final String IMAGE_TOKENS = "N";
    private static final String TEXT_TOKENS = "L";

    private final QwenImageTransformerConfig config;
    private final boolean textMask;

    public QwenImageTransformer(QwenImageTransformerConfig config) {
        this(config, false);
    }

    /** @param textMask whether the graphs take {@link #TXT_BIAS} (padded prompts in one batch) */
    public QwenImageTransformer(QwenImageTransformerConfig config, boolean textMask) {
        this.config = config;
        this.textMask = textMask;
    }

    public QwenImageTransformerConfig config() {
        return config;
    }

    @Override
    public int blocks() {
        return config.numLayers();
    }

    @Override
    public List<String> streams() {
        return STREAMS;
    }

    /**
     * Full precision kept for the timestep MLP, the patch embedder and the final layer (small, and every token's
     * output goes through them).
     */
    public static WeightQuantization quantizationOf(WeightQuantization requested) {
        return requested.keeping("time_text_embed.", "img_in.", "norm_out.", "proj_out.");
    }

    /**
     * Emits the graph of {@code segment}; weights are declared (shape-checked) from {@code weights}, not read; linears
     * quantized as {@link #quantizationOf} says.
     */
    @Override
    public GraphBuilder build(GraphTarget target, WeightCatalog weights, TransformerSegment segment,
            WeightQuantization quantization) {
        if (segment.to() > config.numLayers() || segment.modulatedInput() && segment.from() >= config.numLayers()) {
            throw new IllegalArgumentException("segment " + segment + " exceeds the model's " + config.numLayers()
                    + " blocks (num_layers)");
        }
        GraphBuilder g = new GraphBuilder("qwenimage_transformer_" + segment.from() + "_" + segment.to()
                + (segment.prologue() ? "_p" : "") + (segment.epilogue() ? "_e" : ""), target, weights,
                quantizationOf(quantization));
        new Emitter(g).emit(segment);
        return g;
    }

    /** State of one graph under construction. */
    private final class Emitter {
        private final GraphBuilder g;
        private final Layers nn;
        private final DType act;
        private final long d = config.innerDim();
        private final long heads = config.numAttentionHeads();
        private final long headDim = config.attentionHeadDim();
        private final long pairs = headDim / 2;

        /** RoPE tables reshaped to {@code [S, 1, hd/2, 1]} (float32), broadcasting over batch, heads and pair half. */
        private Value imgCos, imgSin, txtCos, txtSin;
        /** {@code [L]} as a 1-element int64 tensor: where text rows end in the joint sequence. */
        private Value textLength;
        /** With a text mask: the additive attention bias over the joint keys, {@code [B, 1, L+N, L+N]}; else null. */
        private Value keyBias;
        /** SiLU(temb), shared by every block's modulation and the output head. */
        private Value siluTemb;
        /** Block 0's image modulation {@code [B, 1|N, 6D]} when another segment computed it, else null. */
        private Value imgMod0;
        /** With zero_cond_t: SiLU of the t = 0 embedding, and the condition-token mask {@code [N, 1]}. */
        private Value siluTembZero, condTokens;

        Emitter(GraphBuilder g) {
            this.g = g;
            this.nn = new Layers(g);
            this.act = g.act();
        }

        void emit(TransformerSegment segment) {
            Value img;
            Value txt;
            Value temb;
            Value tembZero = null;
            if (segment.prologue()) {
                Value hidden = g.input(HIDDEN_STATES, act, BATCH, IMAGE_TOKENS, config.inChannels());
                Value encoder = g.input(ENCODER_HIDDEN_STATES, act, BATCH, TEXT_TOKENS, config.jointAttentionDim());
                Value timestep = g.input(TIMESTEP, DType.FLOAT32, BATCH);
                ropeInputs(segment.blocks() > 0);
                img = nn.linear(hidden, g.weight("img_in.weight", d, config.inChannels()), g.weight("img_in.bias", d));
                txt = textIn(encoder);
                temb = timestepEmbedding(timestep);
                if (config.zeroCondT()) {
                    tembZero = timestepEmbedding(g.mul(timestep, g.scalarF32(0f)));
                }
            } else {
                img = g.input(IMG, act, BATCH, IMAGE_TOKENS, d);
                // the output head reads the image stream only; text ends with the last block
                txt = segment.blocks() > 0 ? g.input(TXT, act, BATCH, TEXT_TOKENS, d) : null;
                temb = g.input(TEMB, act, BATCH, d);
                if (config.zeroCondT()) {
                    tembZero = g.input(TEMB_ZERO, act, BATCH, d);
                }
                ropeInputs(segment.blocks() > 0);
                if (segment.from() == 0 && segment.blocks() > 0) {
                    imgMod0 = g.input(IMG_MOD_0, act, BATCH, MOD_ROWS, 6 * d);
                }
            }
            boolean usesModulation = segment.blocks() > 0 || segment.prologue() && !segment.epilogue();
            if (config.zeroCondT() && usesModulation) {
                siluTembZero = g.silu(tembZero);
                condTokens = g.input(COND_TOKENS, act, IMAGE_TOKENS, 1);
            }
            if (segment.blocks() > 0) {
                textLength = g.slice(g.shape(txt), 0, 1, 2);
                if (textMask) {
                    keyBias = keyBias(img);
                }
            }
            if (segment.blocks() > 0 || segment.epilogue() || segment.prologue()) {
                siluTemb = g.silu(temb);
            }

            // A prologue-only segment computes block 0's image modulation for the segment that runs block 0, and
            // from it the probe TeaCache decides on before running any block.
            boolean handsOverMod0 = segment.prologue() && segment.to() == 0 && !segment.epilogue();
            Value modulated = null;
            if (handsOverMod0) {
                imgMod0 = imageModulation("transformer_blocks.0.img_mod.1");
                if (segment.modulatedInput()) {
                    Value[] mod = split(imgMod0);
                    modulated = modulate(nn.layerNorm(img, d, null, null, EPS), mod[0], mod[1]);
                }
            } else if (segment.modulatedInput() && segment.blocks() == 0) {
                throw new IllegalArgumentException("segment " + segment + ": the probe without blocks is computed by the"
                        + " prologue only");
            }
            for (int i = segment.from(); i < segment.to(); i++) {
                Value[] out = block(i, img, txt);
                img = out[0];
                txt = out[1];
                if (i == segment.from()) {
                    modulated = out[2];
                }
            }

            if (segment.epilogue()) {
                g.output(outputHead(img), VELOCITY, act, BATCH, IMAGE_TOKENS, config.outputDim());
            } else {
                g.output(img, IMG_OUT, act, BATCH, IMAGE_TOKENS, d);
                g.output(txt, TXT_OUT, act, BATCH, TEXT_TOKENS, d);
                if (segment.prologue()) {
                    g.output(temb, TEMB_OUT, act, BATCH, d);
                    if (config.zeroCondT()) {
                        g.output(tembZero, TEMB_ZERO + "_out", act, BATCH, d);
                    }
                }
                if (handsOverMod0) {
                    g.output(imgMod0, IMG_MOD_0 + "_out", act, BATCH, MOD_ROWS, 6 * d);
                }
            }
            if (segment.modulatedInput()) {
                g.output(modulated, MODULATED_INPUT, act, BATCH, IMAGE_TOKENS, d);
            }
        }

        /**
         * {@code txt_bias [B, 1, 1, L]} padded with N zeros (the image keys) and repeated over the {@code L + N}
         * query rows: {@code [B, 1, L+N, L+N]} in the activation type.
         */
        private Value keyBias(Value img) {
            Value txtBias = g.input(TXT_BIAS, DType.FLOAT32, BATCH, 1, 1, TEXT_TOKENS);
            Value imageTokens = g.slice(g.shape(img), 0, 1, 2);
            Value pads = g.concat(0, g.constLongs(0, 0, 0, 0, 0, 0, 0), imageTokens);
            Value keys = g.op("Pad", List.of(txtBias, pads));
            Value rows = g.concat(0, g.constLongs(1, 1), g.add(textLength, imageTokens), g.constLongs(1));
            Value bias = g.expand(keys, rows);
            return act == DType.FLOAT32 ? bias : g.cast(bias, act);
        }

        // ---- prologue ----------------------------------------------------------------------------------

        /** Declares the RoPE tables (every segment takes them); reshapes them only for blocks that rotate. */
        private void ropeInputs(boolean used) {
            imgCos = ropeTable(g.input(IMG_COS, DType.FLOAT32, IMAGE_TOKENS, pairs), used);
            imgSin = ropeTable(g.input(IMG_SIN, DType.FLOAT32, IMAGE_TOKENS, pairs), used);
            txtCos = ropeTable(g.input(TXT_COS, DType.FLOAT32, TEXT_TOKENS, pairs), used);
            txtSin = ropeTable(g.input(TXT_SIN, DType.FLOAT32, TEXT_TOKENS, pairs), used);
        }

        // ORT runs nodes whose outputs nothing reads, so a segment without blocks emits none for the tables
        private Value ropeTable(Value table, boolean used) {
            return used ? g.reshape(table, 0, 1, pairs, 1) : null;
        }

        /** {@code txt_in(txt_norm(e))}: RMSNorm with weight over joint_attention_dim, then the projection to D. */
        private Value textIn(Value encoder) {
            long joint = config.jointAttentionDim();
            Value normed = nn.rmsNorm(encoder, g.weight("txt_norm.weight", joint), EPS);
            return nn.linear(normed, g.weight("txt_in.weight", d, joint), g.weight("txt_in.bias", d));
        }

        /**
         * {@code linear_2(SiLU(linear_1([cos(1000·σ·f), sin(1000·σ·f)])))}. The sinusoid is fp32; as upstream, sigma
         * and the frequencies are first rounded to the activation type ({@code timestep.to(hidden_states.dtype)},
         * {@code exp(exponent).to(timesteps.dtype)}), a no-op for fp32.
         */
        private Value timestepEmbedding(Value timestep) {
            Value sigma = timestep;
            Value freqs = g.constFloats(TimestepSinusoid.frequencies(), TIMESTEP_CHANNELS / 2);
            if (act != DType.FLOAT32) {
                sigma = g.cast(g.cast(sigma, act), DType.FLOAT32);
                freqs = g.cast(freqs, DType.FLOAT32); // constFloats gave them in act: widening keeps them rounded
            }
            Value args = g.mul(g.mul(g.unsqueeze(sigma, 1), freqs), g.scalarF32(1000f));
            Value proj = g.concat(1, g.cos(args), g.sin(args));
            if (act != DType.FLOAT32) {
                proj = g.cast(proj, act);
            }
            String p = "time_text_embed.timestep_embedder.";
            Value h = nn.linear(proj, g.weight(p + "linear_1.weight", d, TIMESTEP_CHANNELS),
                    g.weight(p + "linear_1.bias", d));
            return nn.linear(g.silu(h), g.weight(p + "linear_2.weight", d, d), g.weight(p + "linear_2.bias", d));
        }

        // ---- dual-stream block -------------------------------------------------------------------------

        /** Block {@code i}: returns the new image stream, the new text stream and the block's modulated image input. */
        private Value[] block(int i, Value img, Value txt) {
            String p = "transformer_blocks." + i + ".";
            Value[] imgMod = split(i == 0 && imgMod0 != null ? imgMod0 : imageModulation(p + "img_mod.1"));
            Value[] txtMod = modulation(p + "txt_mod.1", 6);

            Value imgIn = modulate(nn.layerNorm(img, d, null, null, EPS), imgMod[0], imgMod[1]);
            Value txtIn = modulate(nn.layerNorm(txt, d, null, null, EPS), txtMod[0], txtMod[1]);
            Value[] attn = jointAttention(p + "attn.", imgIn, txtIn);
            img = g.add(img, g.mul(imgMod[2], attn[0]));
            txt = g.add(txt, g.mul(txtMod[2], attn[1]));

            img = g.add(img, g.mul(imgMod[5], mlp(p + "img_mlp.", modulate(nn.layerNorm(img, d, null, null, EPS),
                    imgMod[3], imgMod[4]))));
            txt = g.add(txt, g.mul(txtMod[5], mlp(p + "txt_mlp.", modulate(nn.layerNorm(txt, d, null, null, EPS),
                    txtMod[3], txtMod[4]))));
            if (act == DType.FLOAT16) {
                txt = g.clip(txt, -FP16_MAX, FP16_MAX);
                img = g.clip(img, -FP16_MAX, FP16_MAX);
            }
            return new Value[] {img, txt, imgIn};
        }

        /**
         * {@code img_mod.1(SiLU(temb))} as {@code [B, 1, 6D]}; with zero_cond_t per token {@code [B, N, 6D]}, the
         * condition tokens taking {@code img_mod.1(SiLU(temb_zero))} (upstream's {@code torch.where} on
         * {@code modulate_index}, here an exact 0/1 blend).
         */
        private Value imageModulation(String prefix) {
            Value mod = g.unsqueeze(modulationVector(prefix, 6), 1);
            if (!config.zeroCondT()) {
                return mod;
            }
            Value zero = g.unsqueeze(nn.linear(siluTembZero, g.weight(prefix + ".weight", 6 * d, d),
                    g.weight(prefix + ".bias", 6 * d)), 1);
            return g.add(mod, g.mul(g.sub(zero, mod), condTokens));
        }

        /** A modulation {@code [B, 1|N, 6D]} cut into its six {@code [B, 1|N, D]} pieces. */
        private Value[] split(Value mod) {
            return g.split(mod, 2, d, d, d, d, d, d);
        }

        /** {@code Linear(SiLU(temb))} cut into {@code chunks} pieces of D, each {@code [B, 1, D]}. */
        private Value[] modulation(String prefix, int chunks) {
            return chunks(modulationVector(prefix, chunks), chunks);
        }

        /** {@code Linear(SiLU(temb))}: {@code [B, chunks·D]}. */
        private Value modulationVector(String prefix, int chunks) {
            return nn.linear(siluTemb, g.weight(prefix + ".weight", chunks * d, d),
                    g.weight(prefix + ".bias", chunks * d));
        }

        /** A modulation vector {@code [B, chunks·D]} cut into {@code chunks} pieces, each {@code [B, 1, D]}. */
        private Value[] chunks(Value mod, int chunks) {
            long[] sizes = new long[chunks];
            java.util.Arrays.fill(sizes, d);
            return g.split(g.reshape(mod, 0, 1, chunks * d), 2, sizes);
        }

        /** {@code y·(1 + scale) + shift}. */
        private Value modulate(Value y, Value shift, Value scale) {
            return g.add(g.mul(y, g.add(scale, g.scalar(1f))), shift);
        }

        /** {@code net.2(GELU_tanh(net.0.proj(y)))}, hidden width 4D. */
        private Value mlp(String prefix, Value y) {
            Value h = nn.linear(y, g.weight(prefix + "net.0.proj.weight", 4 * d, d),
                    g.weight(prefix + "net.0.proj.bias", 4 * d));
            return nn.linear(g.geluTanh(h), g.weight(prefix + "net.2.weight", d, 4 * d),
                    g.weight(prefix + "net.2.bias", d));
        }

        // ---- joint attention ---------------------------------------------------------------------------

        /** Returns {@code (a_img [B, N, D], a_txt [B, L, D])}. */
        private Value[] jointAttention(String p, Value imgIn, Value txtIn) {
            Value imgQ = nn.rotatePairs(qkNorm(proj(p + "to_q", imgIn), p + "norm_q"), imgCos, imgSin);
            Value imgK = nn.rotatePairs(qkNorm(proj(p + "to_k", imgIn), p + "norm_k"), imgCos, imgSin);
            Value imgV = proj(p + "to_v", imgIn);
            Value txtQ = nn.rotatePairs(qkNorm(proj(p + "add_q_proj", txtIn), p + "norm_added_q"), txtCos, txtSin);
            Value txtK = nn.rotatePairs(qkNorm(proj(p + "add_k_proj", txtIn), p + "norm_added_k"), txtCos, txtSin);
            Value txtV = proj(p + "add_v_proj", txtIn);

            // joint sequence in the order [text, image]
            Value joint = nn.attention(g.concat(1, txtQ, imgQ), g.concat(1, txtK, imgK), g.concat(1, txtV, imgV),
                    heads, heads, headDim, keyBias);
            Value txtRows = g.op("Slice", List.of(joint, g.constLongs(0), textLength, g.constLongs(1)));
            Value imgRows = g.op("Slice", List.of(joint, textLength, g.constLongs(Long.MAX_VALUE), g.constLongs(1)));
            return new Value[] {proj(p + "to_out.0", imgRows), proj(p + "to_add_out", txtRows)};
        }

        private Value proj(String prefix, Value x) {
            return nn.linear(x, g.weight(prefix + ".weight", d, d), g.weight(prefix + ".bias", d));
        }

        /** RMSNorm over each head's {@code hd} channels: {@code [B, S, D]} to {@code [B, S, H, hd]}. */
        private Value qkNorm(Value x, String prefix) {
            return nn.rmsNorm(g.reshape(x, 0, 0, heads, headDim), g.weight(prefix + ".weight", headDim), EPS);
        }

        // ---- epilogue ----------------------------------------------------------------------------------

        /**
         * {@code proj_out(LayerNorm(img)·(1 + scale) + shift)} with {@code [scale, shift] = norm_out.linear(SiLU(temb))}.
         */
        private Value outputHead(Value img) {
            Value[] mod = modulation("norm_out.linear", 2);
            Value scale = mod[0]; // scale first: AdaLayerNormContinuous chunks (scale, shift)
            Value shift = mod[1];
            Value x = modulate(nn.layerNorm(img, d, null, null, EPS), shift, scale);
            return nn.linear(x, g.weight("proj_out.weight", config.outputDim(), d),
                    g.weight("proj_out.bias", config.outputDim()));
        }
    }
}
