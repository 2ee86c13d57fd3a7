package dev.ditfn.model.zimage;

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
 * ONNX graphs of the Z-Image single-stream DiT ({@code ZImageTransformer2DModel}, zimage-edit-spec A3), one per
 * {@link TransformerSegment}. The step caches see the main {@code layers} as the blocks; the embedders and both
 * refiners are the prologue (always computed), the final layer the epilogue.
 *
 * <p>Graph interface (symbolic {@code B} batch, {@code Nx} image tokens padded to 32, {@code Lc} caption tokens padded
 * to 32, {@code S = Nx + Lc}; activations in the target's type; one unmasked sample per call, as upstream with
 * batch 1):
 * <ul>
 *   <li>the prologue takes {@code hidden_states [B, Nx, 64]} (patch features, channel fastest; see
 *       {@link ZImageSequence}), {@code x_pad [Nx, 1]} (1 on pad rows), {@code encoder_hidden_states [B, Lc, cap]},
 *       {@code cap_pad [Lc, 1]} and {@code timestep [B]} (float32 {@code t = 1 − σ});</li>
 *   <li>other segments take the unified stream {@code x [B, S, D]} ({@code [image; caption]}) and {@code adaln
 *       [B, 256]} (the timestep conditioning);</li>
 *   <li>every segment takes the RoPE tables {@code img_cos, img_sin [Nx, hd/2]}, {@code txt_cos, txt_sin [Lc, hd/2]}
 *       (float32, {@link ZImageRope});</li>
 *   <li>the prologue outputs {@code x_out}, {@code adaln_out}, and hands layer 0's modulation {@code mod_0_out
 *       [B, 4D]} and attention input {@code attn_in_0_out [B, S, D]} to the segment that runs layer 0, so layer 0's
 *       adaLN and first norm live in one session; the attention input is also TeaCache's probe
 *       ({@code modulated_input}, as vLLM-Omni takes it: {@code attention_norm1(x)·(1 + scale_msa)});</li>
 *   <li>the epilogue outputs {@code velocity [B, Nx, 64]}: the model output on the image rows (pads included, the
 *       caller drops them). It is the raw model output; the pipeline negates it (A4.4).</li>
 * </ul>
 */
public final class ZImageTransformer implements SegmentGraphs {
    public static final String HIDDEN_STATES = "hidden_states";
    public static final String X_PAD = "x_pad";
    public static final String ENCODER_HIDDEN_STATES = "encoder_hidden_states";
    public static final String CAP_PAD = "cap_pad";
    public static final String TIMESTEP = "timestep";
    public static final String X = "x";
    public static final String ADALN = "adaln";
    public static final String MOD_0 = "mod_0";
    public static final String ATTN_IN_0 = "attn_in_0";
    public static final String IMG_COS = "img_cos";
    public static final String IMG_SIN = "img_sin";
    public static final String TXT_COS = "txt_cos";
    public static final String TXT_SIN = "txt_sin";
    private static final String OUT = "_out";
    private static final String BATCH = "B";
    private static final String IMAGE_TOKENS = "Nx";
    private static final String CAPTION_TOKENS = "Lc";
    private static final String ALL_TOKENS = "S";

    private final ZImageTransformerConfig config;

    public ZImageTransformer(ZImageTransformerConfig config) {
        this.config = config;
    }

    @Override
    public int blocks() {
        return config.nLayers();
    }

    @Override
    public List<String> streams() {
        return List.of(X);
    }

    /**
     * Full precision kept for the timestep MLP, the patch embedder and the final layer (small, and every token's
     * output goes through them), and the pad tokens (not linears).
     */
    public static WeightQuantization quantizationOf(WeightQuantization requested) {
        return requested.keeping("t_embedder.", "all_x_embedder.", "all_final_layer.", "x_pad_token", "cap_pad_token");
    }

    @Override
    public GraphBuilder build(GraphTarget target, WeightCatalog weights, TransformerSegment segment,
            WeightQuantization quantization) {
        if (segment.to() > config.nLayers()) {
            throw new IllegalArgumentException("segment " + segment + " exceeds the model's " + config.nLayers()
                    + " layers (n_layers)");
        }
        if (segment.modulatedInput() && !(segment.prologue() && segment.blocks() == 0)) {
            throw new IllegalArgumentException("segment " + segment + ": the probe is computed by the prologue only");
        }
        GraphBuilder g = new GraphBuilder("zimage_transformer_" + segment.from() + "_" + segment.to()
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
        private final long d = config.dim();
        private final long heads = config.nHeads();
        private final long headDim = config.headDim();
        private final float eps = (float) config.normEps();
        /** RoPE tables {@code [rows, 1, hd/2, 1]} float32: image, caption, unified. */
        private Value imgCos, imgSin, txtCos, txtSin;
        private Value adaln;
        /** Layer 0's modulation and attention input when the prologue computed them, else null. */
        private Value mod0, attnIn0;

        Emitter(GraphBuilder g) {
            this.g = g;
            this.nn = new Layers(g);
            this.act = g.act();
        }

        void emit(TransformerSegment segment) {
            Value imgCosIn = g.input(IMG_COS, DType.FLOAT32, IMAGE_TOKENS, headDim / 2);
            Value imgSinIn = g.input(IMG_SIN, DType.FLOAT32, IMAGE_TOKENS, headDim / 2);
            Value txtCosIn = g.input(TXT_COS, DType.FLOAT32, CAPTION_TOKENS, headDim / 2);
            Value txtSinIn = g.input(TXT_SIN, DType.FLOAT32, CAPTION_TOKENS, headDim / 2);
            imgCos = table(imgCosIn);
            imgSin = table(imgSinIn);
            txtCos = table(txtCosIn);
            txtSin = table(txtSinIn);
            Value x;
            if (segment.prologue()) {
                x = prologue();
            } else {
                x = g.input(X, act, BATCH, ALL_TOKENS, d);
                adaln = g.input(ADALN, act, BATCH, config.adalnDim());
                if (segment.from() == 0 && segment.blocks() > 0) {
                    mod0 = g.input(MOD_0, act, BATCH, 4 * d);
                    attnIn0 = g.input(ATTN_IN_0, act, BATCH, ALL_TOKENS, d);
                }
            }
            Value cos = g.concat(0, imgCos, txtCos);
            Value sin = g.concat(0, imgSin, txtSin);
            if (segment.prologue() && !segment.epilogue()) {
                // layer 0's modulation and modulated input, for the segment that runs layer 0 and for the probe
                mod0 = modulation("layers.0.");
                attnIn0 = modulatedNorm(x, "layers.0.attention_norm1", chunks(mod0)[0]);
                g.output(mod0, MOD_0 + OUT, act, BATCH, 4 * d);
                g.output(attnIn0, ATTN_IN_0 + OUT, act, BATCH, ALL_TOKENS, d);
                if (segment.modulatedInput()) {
                    g.output(attnIn0, SegmentedTransformer.PROBE, act, BATCH, ALL_TOKENS, d);
                }
            }
            for (int i = segment.from(); i < segment.to(); i++) {
                boolean handedOver = i == 0 && mod0 != null && !segment.prologue();
                x = block("layers." + i + ".", x, cos, sin, handedOver ? mod0 : modulation("layers." + i + "."),
                        handedOver ? attnIn0 : null);
            }
            if (segment.epilogue()) {
                Value imageRows = g.op("Slice", List.of(x, g.constLongs(0), g.slice(g.shape(imgCosIn), 0, 0, 1),
                        g.constLongs(1)));
                g.output(finalLayer(imageRows), SegmentedTransformer.VELOCITY, act, BATCH, IMAGE_TOKENS,
                        config.patchDim());
            } else {
                g.output(x, X + OUT, act, BATCH, ALL_TOKENS, d);
                if (segment.prologue()) {
                    g.output(adaln, ADALN + OUT, act, BATCH, config.adalnDim());
                }
            }
        }

        private Value table(Value t) {
            return g.reshape(t, 0, 1, headDim / 2, 1);
        }

        /** Embedders, pad tokens, noise refiner (image), context refiner (caption): the unified {@code [image; caption]}. */
        private Value prologue() {
            Value patches = g.input(HIDDEN_STATES, act, BATCH, IMAGE_TOKENS, config.patchDim());
            Value xPad = g.input(X_PAD, act, IMAGE_TOKENS, 1);
            Value caption = g.input(ENCODER_HIDDEN_STATES, act, BATCH, CAPTION_TOKENS, config.capFeatDim());
            Value capPad = g.input(CAP_PAD, act, CAPTION_TOKENS, 1);
            Value timestep = g.input(TIMESTEP, DType.FLOAT32, BATCH);
            adaln = timestepEmbedding(timestep);

            String key = ZImageTransformerConfig.patchKey();
            Value x = nn.linear(patches, g.weight("all_x_embedder." + key + ".weight", d, config.patchDim()),
                    g.weight("all_x_embedder." + key + ".bias", d));
            x = withPadToken(x, xPad, "x_pad_token");
            for (int i = 0; i < config.nRefinerLayers(); i++) {
                String p = "noise_refiner." + i + ".";
                x = block(p, x, imgCos, imgSin, modulation(p), null);
            }
            long cap = config.capFeatDim();
            Value y = nn.linear(nn.rmsNorm(caption, g.weight("cap_embedder.0.weight", cap), eps),
                    g.weight("cap_embedder.1.weight", d, cap), g.weight("cap_embedder.1.bias", d));
            y = withPadToken(y, capPad, "cap_pad_token");
            for (int i = 0; i < config.nRefinerLayers(); i++) {
                y = block("context_refiner." + i + ".", y, txtCos, txtSin, null, null);
            }
            return g.concat(1, x, y);
        }

        /** Rows flagged in {@code pad [rows, 1]} become the learned pad vector (upstream overwrites them). */
        private Value withPadToken(Value rows, Value pad, String token) {
            Value keep = g.sub(g.scalar(1f), pad);
            return g.add(g.mul(rows, keep), g.mul(pad, g.weight(token, 1, d)));
        }

        /**
         * {@code mlp.2(SiLU(mlp.0([cos(t'·f), sin(t'·f)])))} with {@code t' = t·t_scale}, the sinusoid in fp32 and cast
         * to the weight type before the MLP.
         */
        private Value timestepEmbedding(Value t) {
            Value freqs = g.constFloats(TimestepSinusoid.frequencies(), TimestepSinusoid.CHANNELS / 2);
            if (act != DType.FLOAT32) {
                freqs = g.cast(freqs, DType.FLOAT32);
            }
            Value scaled = g.mul(t, g.scalarF32((float) config.tScale()));
            Value args = g.mul(g.unsqueeze(scaled, 1), freqs);
            Value proj = g.concat(1, g.cos(args), g.sin(args));
            if (act != DType.FLOAT32) {
                proj = g.cast(proj, act);
            }
            int mid = ZImageTransformerConfig.T_EMBED_MID;
            Value h = nn.linear(proj, g.weight("t_embedder.mlp.0.weight", mid, TimestepSinusoid.CHANNELS),
                    g.weight("t_embedder.mlp.0.bias", mid));
            return nn.linear(g.silu(h), g.weight("t_embedder.mlp.2.weight", config.adalnDim(), mid),
                    g.weight("t_embedder.mlp.2.bias", config.adalnDim()));
        }

        /** {@code adaLN_modulation.0(c)} (a Linear, no SiLU): {@code [B, 4D]}. */
        private Value modulation(String p) {
            return nn.linear(adaln, g.weight(p + "adaLN_modulation.0.weight", 4 * d, config.adalnDim()),
                    g.weight(p + "adaLN_modulation.0.bias", 4 * d));
        }

        /** {@code [scale_msa, gate_msa, scale_mlp, gate_mlp]}, each {@code [B, 1, D]}. */
        private Value[] chunks(Value mod) {
            return g.split(g.reshape(mod, 0, 1, 4 * d), 2, d, d, d, d);
        }

        /** {@code RMSNorm(x)·(1 + scale)}. */
        private Value modulatedNorm(Value x, String norm, Value scale) {
            return g.mul(nn.rmsNorm(x, g.weight(norm + ".weight", d), eps), g.add(scale, g.scalar(1f)));
        }

        /**
         * One block (A3.6): sandwich norms around attention and feed-forward; with {@code mod} the inputs are scaled by
         * {@code 1 + scale} and the residual branches gated by {@code tanh(gate)}. {@code attnIn} is the block's
         * modulated attention input when another segment computed it.
         */
        private Value block(String p, Value x, Value cos, Value sin, Value mod, Value attnIn) {
            Value[] m = mod == null ? null : chunks(mod);
            Value a = attnIn != null ? attnIn
                    : m == null ? nn.rmsNorm(x, g.weight(p + "attention_norm1.weight", d), eps)
                    : modulatedNorm(x, p + "attention_norm1", m[0]);
            Value attn = nn.rmsNorm(attention(p + "attention.", a, cos, sin), g.weight(p + "attention_norm2.weight", d),
                    eps);
            x = g.add(x, m == null ? attn : g.mul(g.tanh(m[1]), attn));
            Value f = m == null ? nn.rmsNorm(x, g.weight(p + "ffn_norm1.weight", d), eps)
                    : modulatedNorm(x, p + "ffn_norm1", m[2]);
            Value ffn = nn.rmsNorm(feedForward(p + "feed_forward.", f), g.weight(p + "ffn_norm2.weight", d), eps);
            return g.add(x, m == null ? ffn : g.mul(g.tanh(m[3]), ffn));
        }

        private Value attention(String p, Value a, Value cos, Value sin) {
            Value q = nn.linear(a, g.weight(p + "to_q.weight", d, d), null);
            Value k = nn.linear(a, g.weight(p + "to_k.weight", d, d), null);
            Value v = nn.linear(a, g.weight(p + "to_v.weight", d, d), null);
            q = nn.rotatePairs(qkNorm(q, p + "norm_q"), cos, sin);
            k = nn.rotatePairs(qkNorm(k, p + "norm_k"), cos, sin);
            Value o = nn.attention(q, k, v, heads, heads, headDim, null);
            return nn.linear(o, g.weight(p + "to_out.0.weight", d, d), null);
        }

        /** Per-head RMSNorm ({@code [B, S, D]} to {@code [B, S, H, hd]}); without qk_norm only the reshape. */
        private Value qkNorm(Value x, String prefix) {
            Value heads4 = g.reshape(x, 0, 0, heads, headDim);
            return config.qkNorm() ? nn.rmsNorm(heads4, g.weight(prefix + ".weight", headDim),
                    (float) ZImageTransformerConfig.QK_NORM_EPS) : heads4;
        }

        /** {@code w2(SiLU(w1·x) ⊙ w3·x)}, no biases. */
        private Value feedForward(String p, Value x) {
            long ffn = config.ffnDim();
            Value gate = g.silu(nn.linear(x, g.weight(p + "w1.weight", ffn, d), null));
            Value up = nn.linear(x, g.weight(p + "w3.weight", ffn, d), null);
            return nn.linear(g.mul(gate, up), g.weight(p + "w2.weight", d, ffn), null);
        }

        /** {@code linear(LayerNorm(x)·(1 + adaLN(SiLU(c))))}: no shift, no gate. */
        private Value finalLayer(Value x) {
            String p = "all_final_layer." + ZImageTransformerConfig.patchKey() + ".";
            Value scale = nn.linear(g.silu(adaln), g.weight(p + "adaLN_modulation.1.weight", d, config.adalnDim()),
                    g.weight(p + "adaLN_modulation.1.bias", d));
            Value normed = nn.layerNorm(x, d, null, null, (float) ZImageTransformerConfig.FINAL_NORM_EPS);
            Value y = g.mul(normed, g.add(g.unsqueeze(scale, 1), g.scalar(1f)));
            return nn.linear(y, g.weight(p + "linear.weight", config.patchDim(), d),
                    g.weight(p + "linear.bias", config.patchDim()));
        }
    }
}
