package dev.ditfn.model.qwenimage;

import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.ReferenceMath.map;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.DType;
import dev.ditfn.testing.ReferenceMath;

import dev.ditfn.weights.WeightStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A plain-Java, double-precision forward of the Qwen-Image DiT written from the spec (§2.3-§2.6), independent of the
 * graph code: it reads the same weights and computes everything in double, except the timestep sinusoid's
 * frequencies and arguments, which the spec fixes in fp32 ({@code f_k} and {@code 1000·(σ·f_k)}; at arguments up to
 * 1000 rad fp32 rounding alone moves cos/sin by ~1e-4, so a double reference would measure upstream's rounding, not
 * the graph). RoPE angles are computed here directly from the positions (not via {@link QwenRope}).
 *
 * <p>Tensors are flat row-major arrays: streams {@code [B, S, D]}, {@code temb [B, D]}.
 */
final class QwenImageReference {
    static final double EPS = 1e-6;

    private final QwenImageTransformerConfig c;
    private final WeightStore weights;
    private final Map<String, double[]> cache = new HashMap<>();
    private final int dim;
    private final int heads;
    private final int headDim;

    QwenImageReference(QwenImageTransformerConfig config, WeightStore weights) {
        this.c = config;
        this.weights = weights;
        this.dim = config.numAttentionHeads() * config.attentionHeadDim();
        this.heads = config.numAttentionHeads();
        this.headDim = config.attentionHeadDim();
    }

    /** The three streams after the prologue. */
    record State(double[] img, double[] txt, double[] temb) {
    }

    /** A block's outputs plus its modulated image input ({@code LN(img)·(1+scale1)+shift1}). */
    record BlockOut(double[] img, double[] txt, double[] modulatedImg) {
    }

    // ---- full forward ------------------------------------------------------------------------------------

    /** velocity {@code [B, N, patch²·out]} for {@code x [B, N, in]}, {@code e [B, L, joint]}, {@code sigma [B]}. */
    double[] forward(float[] x, float[] e, float[] sigma, int batch, int h2, int w2, int textLen) {
        return forward(x, e, sigma, batch, List.of(new int[] {h2, w2}), textLen, null);
    }

    /**
     * The forward over several images in one sequence ({@code grids}: Edit's noise grid, then its condition images,
     * frame {@code i} for image {@code i}); with {@code imageSigma} the image stream is modulated by the embedding of
     * that timestep instead (every image token a zero_cond_t condition token when it is {@code {0}}).
     */
    double[] forward(float[] x, float[] e, float[] sigma, int batch, List<int[]> grids, int textLen,
            float[] imageSigma) {
        int n = grids.stream().mapToInt(g -> g[0] * g[1]).sum();
        State s = prologue(x, e, sigma, batch, n, textLen);
        double[] imageTemb = imageSigma == null ? s.temb() : timestepEmbedding(imageSigma);
        double[] img = s.img();
        double[] txt = s.txt();
        for (int i = 0; i < c.numLayers(); i++) {
            BlockOut o = block(i, img, txt, s.temb(), imageTemb, batch, grids, textLen);
            img = o.img();
            txt = o.txt();
        }
        return outputHead(img, s.temb(), batch, n);
    }

    State prologue(float[] x, float[] e, float[] sigma, int batch, int n, int textLen) {
        double[] img = linear(d(x), batch * n, "img_in", c.inChannels(), dim);
        double[] txt = rmsNorm(d(e), batch * textLen, c.jointAttentionDim(), w("txt_norm.weight"));
        txt = linear(txt, batch * textLen, "txt_in", c.jointAttentionDim(), dim);
        return new State(img, txt, timestepEmbedding(sigma));
    }

    // ---- timestep embedding (§2.3 step 4) ---------------------------------------------------------------

    /** {@code temb [B, D]} with fp32 activations. */
    double[] timestepEmbedding(float[] sigma) {
        return timestepEmbedding(sigma, DType.FLOAT32);
    }

    /**
     * {@code temb [B, D]} with activations of type {@code act}: for fp16, sigma and f_k are rounded to fp16 first, as
     * upstream's {@code timestep.to(hidden_states.dtype)} and {@code exp(exponent).to(timesteps.dtype)} do.
     */
    double[] timestepEmbedding(float[] sigma, DType act) {
        int b = sigma.length;
        double[] proj = new double[b * 256];
        for (int s = 0; s < b; s++) {
            float sg = act == DType.FLOAT16 ? fp16(sigma[s]) : sigma[s];
            for (int k = 0; k < 128; k++) {
                // spec: f_k = exp(-ln(10000)·k/128) in fp32; a_k = 1000·(s·f_k) in fp32
                float fk = (float) Math.exp((float) -Math.log(10000) * k / 128f);
                if (act == DType.FLOAT16) {
                    fk = fp16(fk);
                }
                float ak = 1000f * (sg * fk);
                proj[s * 256 + k] = Math.cos(ak); // flip_sin_to_cos: cos first
                proj[s * 256 + 128 + k] = Math.sin(ak);
            }
        }
        String p = "time_text_embed.timestep_embedder.";
        double[] h = map(linear(proj, b, p + "linear_1", 256, dim), ReferenceMath::silu);
        return linear(h, b, p + "linear_2", dim, dim);
    }

    /** {@code x} rounded to the nearest fp16 value. */
    static float fp16(float x) {
        return Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(x));
    }

    // ---- dual-stream block (§2.5, §2.6) ------------------------------------------------------------------

    BlockOut block(int i, double[] img, double[] txt, double[] temb, int batch, int h2, int w2, int textLen) {
        return block(i, img, txt, temb, temb, batch, List.of(new int[] {h2, w2}), textLen);
    }

    BlockOut block(int i, double[] img, double[] txt, double[] temb, double[] imageTemb, int batch,
            List<int[]> grids, int textLen) {
        String p = "transformer_blocks." + i + ".";
        int n = grids.stream().mapToInt(g -> g[0] * g[1]).sum();
        double[] siluTemb = map(temb, ReferenceMath::silu);
        double[] modImg = linear(map(imageTemb, ReferenceMath::silu), batch, p + "img_mod.1", dim, 6 * dim);
        double[] modTxt = linear(siluTemb, batch, p + "txt_mod.1", dim, 6 * dim);

        double[] xi = modulate(layerNorm(img, batch * n), modImg, 0, 1, batch, n);
        double[] ei = modulate(layerNorm(txt, batch * textLen), modTxt, 0, 1, batch, textLen);
        double[][] attn = jointAttention(p + "attn.", xi, ei, batch, grids, textLen);

        double[] x = gatedAdd(img, attn[0], modImg, 2, batch, n);
        double[] e = gatedAdd(txt, attn[1], modTxt, 2, batch, textLen);
        x = gatedAdd(x, mlp(p + "img_mlp.", modulate(layerNorm(x, batch * n), modImg, 3, 4, batch, n), batch * n),
                modImg, 5, batch, n);
        e = gatedAdd(e, mlp(p + "txt_mlp.", modulate(layerNorm(e, batch * textLen), modTxt, 3, 4, batch, textLen),
                batch * textLen), modTxt, 5, batch, textLen);
        return new BlockOut(x, e, xi);
    }

    /** {@code y·(1 + chunk[scale]) + chunk[shift]} with chunks of {@code mod [B, 6D]} (or {@code [B, 2D]}). */
    private double[] modulate(double[] y, double[] mod, int shiftChunk, int scaleChunk, int batch, int tokens) {
        int chunks = mod.length / batch / dim;
        double[] out = new double[y.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < tokens; t++) {
                for (int j = 0; j < dim; j++) {
                    int idx = (b * tokens + t) * dim + j;
                    double shift = mod[(b * chunks + shiftChunk) * dim + j];
                    double scale = mod[(b * chunks + scaleChunk) * dim + j];
                    out[idx] = y[idx] * (1 + scale) + shift;
                }
            }
        }
        return out;
    }

    private double[] gatedAdd(double[] x, double[] a, double[] mod, int gateChunk, int batch, int tokens) {
        double[] out = new double[x.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < tokens; t++) {
                for (int j = 0; j < dim; j++) {
                    int idx = (b * tokens + t) * dim + j;
                    out[idx] = x[idx] + mod[(b * 6 + gateChunk) * dim + j] * a[idx];
                }
            }
        }
        return out;
    }

    private double[] mlp(String p, double[] y, int rows) {
        double[] h = map(linear(y, rows, p + "net.0.proj", dim, 4 * dim), ReferenceMath::geluTanh);
        return linear(h, rows, p + "net.2", 4 * dim, dim);
    }

    /** Returns {@code {a_img [B, N, D], a_txt [B, L, D]}}. */
    private double[][] jointAttention(String p, double[] xi, double[] ei, int batch, List<int[]> grids,
            int textLen) {
        int n = grids.stream().mapToInt(g -> g[0] * g[1]).sum();
        double[][] imgAngles = imageAngles(grids);
        double[][] txtAngles = textAngles(textLen, grids);
        double[] iq = rope(qkNorm(linear(xi, batch * n, p + "to_q", dim, dim), p + "norm_q"), imgAngles, batch, n);
        double[] ik = rope(qkNorm(linear(xi, batch * n, p + "to_k", dim, dim), p + "norm_k"), imgAngles, batch, n);
        double[] iv = linear(xi, batch * n, p + "to_v", dim, dim);
        double[] tq = rope(qkNorm(linear(ei, batch * textLen, p + "add_q_proj", dim, dim), p + "norm_added_q"),
                txtAngles, batch, textLen);
        double[] tk = rope(qkNorm(linear(ei, batch * textLen, p + "add_k_proj", dim, dim), p + "norm_added_k"),
                txtAngles, batch, textLen);
        double[] tv = linear(ei, batch * textLen, p + "add_v_proj", dim, dim);

        int s = textLen + n;
        double[] q = joint(tq, iq, batch, textLen, n);
        double[] k = joint(tk, ik, batch, textLen, n);
        double[] v = joint(tv, iv, batch, textLen, n);
        double[] o = ReferenceMath.attention(q, k, v, batch, s, s, heads, heads, headDim, null, null);
        double[] oTxt = new double[batch * textLen * dim];
        double[] oImg = new double[batch * n * dim];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(o, b * s * dim, oTxt, b * textLen * dim, textLen * dim);
            System.arraycopy(o, (b * s + textLen) * dim, oImg, b * n * dim, n * dim);
        }
        return new double[][] {linear(oImg, batch * n, p + "to_out.0", dim, dim),
                linear(oTxt, batch * textLen, p + "to_add_out", dim, dim)};
    }

    /** Concatenation along the sequence, text first: {@code [B, L+N, D]}. */
    private double[] joint(double[] txt, double[] img, int batch, int textLen, int n) {
        int s = textLen + n;
        double[] out = new double[batch * s * dim];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(txt, b * textLen * dim, out, b * s * dim, textLen * dim);
            System.arraycopy(img, b * n * dim, out, (b * s + textLen) * dim, n * dim);
        }
        return out;
    }

    /** RMSNorm over each head's channels, weight {@code [hd]}. */
    private double[] qkNorm(double[] x, String prefix) {
        return rmsNorm(x, x.length / headDim, headDim, w(prefix + ".weight"));
    }

    /** Interleaved-pair rotation with per-token angles {@code [S][hd/2]}, same for every head and sample. */
    private double[] rope(double[] x, double[][] angles, int batch, int tokens) {
        double[] out = new double[x.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < tokens; t++) {
                for (int h = 0; h < heads; h++) {
                    int base = (b * tokens + t) * dim + h * headDim;
                    for (int k = 0; k < headDim / 2; k++) {
                        double cos = Math.cos(angles[t][k]);
                        double sin = Math.sin(angles[t][k]);
                        double x0 = x[base + 2 * k];
                        double x1 = x[base + 2 * k + 1];
                        out[base + 2 * k] = x0 * cos - x1 * sin;
                        out[base + 2 * k + 1] = x0 * sin + x1 * cos;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Angles of image f's token at row r, column c: positions (f, r − (h2 − ⌊h2/2⌋), c − (w2 − ⌊w2/2⌋)), the images
     * one after the other.
     */
    double[][] imageAngles(List<int[]> grids) {
        List<double[]> a = new ArrayList<>();
        for (int f = 0; f < grids.size(); f++) {
            int h2 = grids.get(f)[0];
            int w2 = grids.get(f)[1];
            for (int r = 0; r < h2; r++) {
                for (int col = 0; col < w2; col++) {
                    a.add(angles(f, r - (h2 - h2 / 2), col - (w2 - w2 / 2)));
                }
            }
        }
        return a.toArray(new double[0][]);
    }

    /** Angles of text token j: all positions max over the images of max(⌊h2/2⌋, ⌊w2/2⌋), plus j. */
    double[][] textAngles(int textLen, List<int[]> grids) {
        double[][] a = new double[textLen][];
        int m = grids.stream().mapToInt(g -> Math.max(g[0] / 2, g[1] / 2)).max().orElse(0);
        for (int j = 0; j < textLen; j++) {
            a[j] = angles(m + j, m + j, m + j);
        }
        return a;
    }

    private double[] angles(int pf, int ph, int pw) {
        int[] axes = c.axesDimsRope();
        int[] pos = {pf, ph, pw};
        double[] out = new double[headDim / 2];
        int k = 0;
        for (int a = 0; a < 3; a++) {
            for (int j = 0; j < axes[a] / 2; j++) {
                out[k++] = pos[a] / Math.pow(10000, 2.0 * j / axes[a]);
            }
        }
        return out;
    }

    // ---- output head (§2.3 steps 8-9) --------------------------------------------------------------------

    double[] outputHead(double[] img, double[] temb, int batch, int n) {
        double[] emb = linear(map(temb, ReferenceMath::silu), batch, "norm_out.linear", dim, 2 * dim);
        // scale = emb[:, 0:D] (chunk 0), shift = emb[:, D:2D] (chunk 1)
        double[] x = modulate(layerNorm(img, batch * n), emb, 1, 0, batch, n);
        return linear(x, batch * n, "proj_out", dim, c.patchSize() * c.patchSize() * c.outChannels());
    }

    // ---- primitives --------------------------------------------------------------------------------------

    private double[] w(String name) {
        return cache.computeIfAbsent(name, nm -> ReferenceMath.weight(weights, nm));
    }

    /** {@code x [rows, in] · Wᵀ + b} with {@code prefix.weight [out, in]}, {@code prefix.bias [out]}. */
    private double[] linear(double[] x, int rows, String prefix, int in, int out) {
        return ReferenceMath.linear(x, w(prefix + ".weight"), w(prefix + ".bias"), rows, in, out);
    }

    private static double[] rmsNorm(double[] x, int rows, int width, double[] weight) {
        return ReferenceMath.rmsNorm(x, rows, width, weight, EPS);
    }

    /** LayerNorm over D, no affine, biased variance. */
    private double[] layerNorm(double[] x, int rows) {
        return ReferenceMath.layerNorm(x, rows, dim, null, null, EPS);
    }
}
