package dev.ditfn.model.zimage;

import static dev.ditfn.testing.ReferenceMath.flatten;
import static dev.ditfn.testing.ReferenceMath.unflatten;

import dev.ditfn.testing.ReferenceMath;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * A plain-Java, double-precision forward of the Z-Image DiT (diffusers {@code ZImageTransformer2DModel}, basic
 * mode, batch 1, one frame), written from docs/zimage-edit-spec.md Part A and checked line by line against upstream
 * diffusers {@code src/diffusers/models/transformers/transformer_z_image.py} at commit 58eb52c. It is independent of
 * any graph code and exists so graph tests have something to compare against.
 *
 * <p>Everything is computed in double except two places where upstream fixes fp32 and the rounding is large enough to
 * matter at the arguments involved: the timestep sinusoid ({@code u = fp32(t·t_scale)}, {@code f_i} in fp32,
 * {@code fp32(u·f_i)}; at {@code u ≈ 1000} one fp32 ulp of the argument is 6e-5 rad) and the RoPE angles (upstream
 * computes {@code p·ω} in float64 and casts the angle to float32 before {@code polar}; at positions up to 1536 that
 * cast moves the angle by up to 6e-5 rad). The cos/sin of those fp32 values are taken in double. Upstream also casts
 * the sinusoid to the weight dtype (bf16 for the real checkpoint) and c to the latent dtype; those casts are not
 * reproduced.
 *
 * <p>Layouts: a latent is {@code [C, H, W]} row-major (one frame, F = 1, f_patch = 1); sequences are
 * {@code double[S][dim]}; position ids {@code int[S][3]}; weights are looked up by their exact diffusers names
 * (spec A2) through a {@code Function<String, double[]>} that returns row-major values ({@code Linear.weight} is
 * {@code [out, in]}). Pad tokens (to multiples of 32) are real sequence members: they attend and are attended to; with
 * batch 1 there is no attention mask at all (upstream {@code _prepare_sequence} / {@code _build_unified_sequence}
 * set {@code attn_mask = None} when all lengths are equal).
 *
 * <p>Spec vs upstream: no disagreement was found in A1-A3 and C for basic mode. Two clarifications from upstream:
 * (1) the timestep MLP's hidden width is the constant {@code mid_size=1024} whatever {@code dim} is
 * ({@code TimestepEmbedder(min(dim, 256), mid_size=1024)}), so even the tiny test model has
 * {@code t_embedder.mlp.0.weight [1024, 256]}; (2) the code default {@code axes_lens} is {@code [1024, 512, 512]},
 * the Turbo snapshot's is {@code [1536, 512, 512]} (spec A1 says so too); only the id range check depends on it.
 *
 * <p>Cross-check (2026-11-27, by hand, not part of the build): upstream's own module file at 58eb52c, run under
 * torch 1.13 in float64 with {@code Dims.tiny()} and {@link #randomWeights} (seed 77) loaded by these names
 * (73 = all of its state_dict), on four cases (latent 6x4 / 16x8 / 10x14 / 2x2, caption L = 5 / 33 / 32 / 1,
 * t = 0.3 / 0.95 / 0 / 1: image and caption pads present and absent) agreed with {@link #forward} to 2e-15 once its
 * three fp32 spots were widened (RoPE product and cos/sin in float64, sinusoid cos/sin in float64, a correctly
 * rounded fp32 exp for the sinusoid frequencies; the fp32 angle cast, fp32 {@code u} and fp32 {@code u·f} kept).
 * Unpatched it agreed to 6e-6, dominated by torch's vectorised fp32 {@code exp}, which differs from a correctly
 * rounded one by 1 ulp in 15 of the 128 frequencies: a graph's fp32 sinusoid can be expected to differ from this
 * reference at the 1e-5 level in c for {@code t > 0} for the same reason.
 */
public final class ZImageReference {
    /** Upstream {@code ADALN_EMBED_DIM}: the conditioning width is {@code min(dim, 256)}. */
    public static final int ADALN_EMBED_DIM = 256;
    /** Upstream {@code SEQ_MULTI_OF}: image and caption sequences are padded to multiples of this. */
    public static final int SEQ_MULTI_OF = 32;
    /** {@code TimestepEmbedder.frequency_embedding_size}: 128 cos then 128 sin. */
    public static final int T_FREQ_DIM = 256;
    /** {@code TimestepEmbedder(..., mid_size=1024)}: hard-coded, independent of dim. */
    public static final int T_MID = 1024;
    /** {@code max_period} of the sinusoid. */
    public static final double T_MAX_PERIOD = 10000;
    /** Per-head q/k RMSNorm eps: {@code Attention(..., eps=1e-5)}, hard-coded (not norm_eps). */
    public static final double QK_NORM_EPS = 1e-5;
    /** {@code FinalLayer.norm_final}: LayerNorm without affine, eps 1e-6. */
    public static final double FINAL_NORM_EPS = 1e-6;

    private ZImageReference() {
    }

    /**
     * Model dimensions. {@code patch} is the spatial patch (pH = pW; the temporal patch is 1); {@code normEps} is the
     * eps of the block RMSNorms and of {@code cap_embedder.0}; {@code axesDims} must sum to the head dim and
     * {@code axesLens} bound the ids of each axis (the RoPE table sizes).
     */
    public record Dims(int inChannels, int patch, int dim, int heads, int layers, int refinerLayers, int capFeatDim,
            double normEps, double ropeTheta, double tScale, int[] axesDims, int[] axesLens) {
        public Dims {
            if (dim % heads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not a multiple of heads " + heads);
            }
            if (axesDims.length != axesLens.length) {
                throw new IllegalArgumentException("axesDims and axesLens differ in length");
            }
            int sum = 0;
            for (int a : axesDims) {
                if (a % 2 != 0) {
                    throw new IllegalArgumentException("odd axis dim " + a);
                }
                sum += a;
            }
            if (sum != dim / heads) { // upstream: assert head_dim == sum(axes_dims)
                throw new IllegalArgumentException("axesDims sum to " + sum + ", head dim is " + dim / heads);
            }
        }

        /** The Tongyi-MAI/Z-Image-Turbo snapshot config (spec A1). */
        public static Dims zImageTurbo() {
            return new Dims(16, 2, 3840, 30, 30, 2, 2560, 1e-5, 256.0, 1000.0, new int[] {32, 48, 48},
                    new int[] {1536, 512, 512});
        }

        /** A tiny model for tests: dim 32, 2 heads of 16 = axes [4, 6, 6], 2 layers, 1 refiner layer each. */
        public static Dims tiny() {
            return new Dims(4, 2, 32, 2, 2, 1, 24, 1e-5, 256.0, 1000.0, new int[] {4, 6, 6}, new int[] {128, 32, 32});
        }

        public int headDim() {
            return dim / heads;
        }

        /** {@code FeedForward(dim, hidden_dim=int(dim / 3 * 8))}: Python float division, then truncation. */
        public int ffnHidden() {
            return (int) (dim / 3.0 * 8);
        }

        /** {@code min(dim, ADALN_EMBED_DIM)}: width of c and input width of every adaLN Linear. */
        public int adaLnDim() {
            return Math.min(dim, ADALN_EMBED_DIM);
        }

        /** Features per token: {@code pF·pH·pW·C} with pF = 1. */
        public int patchDim() {
            return patch * patch * inChannels;
        }

        /** The ModuleDict key {@code f"{patch_size}-{f_patch_size}"}, e.g. "2-1". */
        public String patchKey() {
            return patch + "-1";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Dims d && inChannels == d.inChannels && patch == d.patch && dim == d.dim
                    && heads == d.heads && layers == d.layers && refinerLayers == d.refinerLayers
                    && capFeatDim == d.capFeatDim && normEps == d.normEps && ropeTheta == d.ropeTheta
                    && tScale == d.tScale && Arrays.equals(axesDims, d.axesDims) && Arrays.equals(axesLens, d.axesLens);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(new Object[] {inChannels, patch, dim, heads, layers, refinerLayers, capFeatDim,
                    normEps, ropeTheta, tScale, Arrays.hashCode(axesDims), Arrays.hashCode(axesLens)});
        }

        @Override
        public String toString() {
            return "Dims[inChannels=" + inChannels + ", patch=" + patch + ", dim=" + dim + ", heads=" + heads
                    + ", layers=" + layers + ", refinerLayers=" + refinerLayers + ", capFeatDim=" + capFeatDim
                    + ", normEps=" + normEps + ", ropeTheta=" + ropeTheta + ", tScale=" + tScale + ", axesDims="
                    + Arrays.toString(axesDims) + ", axesLens=" + Arrays.toString(axesLens) + "]";
        }
    }

    /**
     * The state after both refiners (A3.8 steps 1-3): {@code x} is the unified sequence {@code [Nx + Lc][dim]} =
     * [refined image tokens (Nx rows, the first nImg real) ; refined caption tokens (Lc rows, the first capLen
     * real)], {@code ids [Nx + Lc][3]} its position ids in the same order, and {@code c [adaLnDim]} the timestep
     * conditioning (without SiLU).
     */
    public record Prologue(double[][] x, int[][] ids, double[] c, int nImg, int nx, int capLen, int lc) {
    }

    // ---- A3.1 timestep embedding -------------------------------------------------------------------------

    /**
     * The 256-wide sinusoid of the model's {@code t} (in [0, 1]): {@code u = fp32(t·tScale)},
     * {@code f_i = fp32(exp(fp32(−ln(10000)·i)/128))}, {@code [cos(fp32(u·f_i)) i<128 ; sin(fp32(u·f_i)) i<128]},
     * cos first. The fp32 roundings mirror upstream {@code TimestepEmbedder.timestep_embedding}.
     */
    public static double[] timestepSinusoid(double t, double tScale) {
        int half = T_FREQ_DIM / 2;
        float u = (float) t * (float) tScale; // forward: t * self.t_scale on a float32 tensor
        double[] e = new double[T_FREQ_DIM];
        for (int i = 0; i < half; i++) {
            // freqs = exp(-math.log(max_period) * arange(0, half, float32) / half), all float32
            float f = (float) Math.exp((float) -Math.log(T_MAX_PERIOD) * (float) i / (float) half);
            float arg = u * f; // t[:, None].float() * freqs[None]
            e[i] = Math.cos(arg);
            e[half + i] = Math.sin(arg);
        }
        return e;
    }

    /** {@code c = mlp.2(SiLU(mlp.0(sinusoid(t·tScale))))}, {@code [adaLnDim]}; t is the model's t in [0, 1]. */
    public static double[] timestepEmbedding(Dims d, double t, Function<String, double[]> w) {
        double[] e = timestepSinusoid(t, d.tScale());
        double[] h = ReferenceMath.map(linear(e, 1, T_FREQ_DIM, T_MID, "t_embedder.mlp.0", true, w),
                ReferenceMath::silu);
        return linear(h, 1, T_MID, d.adaLnDim(), "t_embedder.mlp.2", true, w);
    }

    // ---- A3.2 patchify -------------------------------------------------------------------------------------

    /**
     * {@code latent [C, H, W]} to tokens {@code [(H/p)·(W/p)][p·p·C]}: token {@code h·(W/p) + w}, feature
     * {@code (ph·p + pw)·C + c} = {@code X[c, p·h + ph, p·w + pw]} (channel fastest; upstream view
     * {@code [C, F, pF, Ht, pH, Wt, pW]}, permute (1,3,5,2,4,6,0)).
     */
    public static double[][] patchify(double[] latent, int c, int h, int w, int patch) {
        checkLatent(latent, c, h, w, patch);
        int ht = h / patch;
        int wt = w / patch;
        double[][] out = new double[ht * wt][patch * patch * c];
        for (int th = 0; th < ht; th++) {
            for (int tw = 0; tw < wt; tw++) {
                double[] tok = out[th * wt + tw];
                for (int ph = 0; ph < patch; ph++) {
                    for (int pw = 0; pw < patch; pw++) {
                        for (int ch = 0; ch < c; ch++) {
                            tok[(ph * patch + pw) * c + ch] = latent[(ch * h + th * patch + ph) * w + tw * patch + pw];
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * Exact inverse of {@link #patchify}: reads the first {@code (H/p)·(W/p)} rows of {@code tokens} (later rows, e.g.
     * pad and caption tokens, are ignored, as upstream's {@code x[:ori_len]}) and returns {@code [C, H, W]}.
     */
    public static double[] unpatchify(double[][] tokens, int c, int h, int w, int patch) {
        checkLatent(new double[c * h * w], c, h, w, patch);
        int ht = h / patch;
        int wt = w / patch;
        if (tokens.length < ht * wt) {
            throw new IllegalArgumentException(tokens.length + " tokens, need " + ht * wt);
        }
        double[] out = new double[c * h * w];
        for (int th = 0; th < ht; th++) {
            for (int tw = 0; tw < wt; tw++) {
                double[] tok = tokens[th * wt + tw];
                if (tok.length != patch * patch * c) {
                    throw new IllegalArgumentException("token width " + tok.length + ", need " + patch * patch * c);
                }
                for (int ph = 0; ph < patch; ph++) {
                    for (int pw = 0; pw < patch; pw++) {
                        for (int ch = 0; ch < c; ch++) {
                            out[(ch * h + th * patch + ph) * w + tw * patch + pw] = tok[(ph * patch + pw) * c + ch];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static void checkLatent(double[] latent, int c, int h, int w, int patch) {
        if (latent.length != c * h * w) {
            throw new IllegalArgumentException(latent.length + " values for [" + c + ", " + h + ", " + w + "]");
        }
        if (h % patch != 0 || w % patch != 0) {
            throw new IllegalArgumentException("latent " + h + "x" + w + " is not a multiple of patch " + patch);
        }
    }

    // ---- A3.3 / A3.4 padding and position ids --------------------------------------------------------------

    /** {@code n + ((−n) mod 32)}. */
    public static int paddedLength(int n) {
        return n + Math.floorMod(-n, SEQ_MULTI_OF);
    }

    /**
     * Caption ids {@code [Lc][3]}, {@code Lc = paddedLength(captionLen)}: row k is {@code (1 + k, 0, 0)} for every k,
     * pads included (upstream builds the grid with the padded length, appends (0,0,0) rows for the pads, then cuts the
     * RoPE rows to Lc, which drops exactly those appended rows).
     */
    public static int[][] captionPositionIds(int captionLen) {
        if (captionLen < 1) {
            throw new IllegalArgumentException("caption length " + captionLen);
        }
        int lc = paddedLength(captionLen);
        int[][] ids = new int[lc][];
        for (int k = 0; k < lc; k++) {
            ids[k] = new int[] {1 + k, 0, 0};
        }
        return ids;
    }

    /**
     * Image ids {@code [Nx][3]}, {@code Nx = paddedLength(ht·wt)}: real token {@code h·wt + w} is
     * {@code (Lc + 1, h, w)} with {@code Lc = paddedLength(captionLen)} (upstream start {@code (cap_len + 1, 0, 0)}
     * where cap_len is the padded length); pad tokens are {@code (0, 0, 0)}. Passing the padded length as
     * captionLen gives the same result.
     */
    public static int[][] imagePositionIds(int captionLen, int ht, int wt) {
        if (captionLen < 1) {
            throw new IllegalArgumentException("caption length " + captionLen);
        }
        int lc = paddedLength(captionLen);
        int n = ht * wt;
        int[][] ids = new int[paddedLength(n)][];
        for (int h = 0; h < ht; h++) {
            for (int w = 0; w < wt; w++) {
                ids[h * wt + w] = new int[] {lc + 1, h, w};
            }
        }
        for (int k = n; k < ids.length; k++) {
            ids[k] = new int[] {0, 0, 0};
        }
        return ids;
    }

    // ---- A3.5 RoPE -----------------------------------------------------------------------------------------

    /**
     * The {@code headDim/2} rotation angles of a token with ids {@code (p_0, p_1, …)}: axis a contributes
     * {@code fp32(p_a · ω_{a,j})}, {@code ω_{a,j} = 1 / theta^(2j/d_a)} (float64), j = 0..d_a/2−1, axes concatenated
     * in order. The fp32 cast is upstream's {@code torch.outer(timestep, freqs).float()}.
     */
    public static double[] ropeAngles(Dims d, int[] ids) {
        int[] axes = d.axesDims();
        if (ids.length != axes.length) {
            throw new IllegalArgumentException(ids.length + " ids for " + axes.length + " axes");
        }
        double[] out = new double[d.headDim() / 2];
        int k = 0;
        for (int a = 0; a < axes.length; a++) {
            if (ids[a] < 0 || ids[a] >= d.axesLens()[a]) { // upstream indexes a table of axesLens[a] rows
                throw new IllegalArgumentException("id " + ids[a] + " on axis " + a + " outside [0, "
                        + d.axesLens()[a] + ")");
            }
            for (int j = 0; j < axes[a] / 2; j++) {
                double omega = 1.0 / Math.pow(d.ropeTheta(), (double) (2 * j) / axes[a]);
                out[k++] = (float) ((double) ids[a] * omega);
            }
        }
        return out;
    }

    /**
     * Interleaved-pair complex RoPE on one token's heads {@code x [heads][headDim]}: pair j = {@code (x[2j], x[2j+1])}
     * becomes {@code (x[2j]cosθ_j − x[2j+1]sinθ_j, x[2j]sinθ_j + x[2j+1]cosθ_j)}, θ = {@link #ropeAngles}; every head
     * uses the same angles. Returns a new array.
     */
    public static double[][] rope(Dims d, int[] ids, double[][] x) {
        double[] theta = ropeAngles(d, ids);
        double[][] out = new double[x.length][];
        for (int h = 0; h < x.length; h++) {
            if (x[h].length != 2 * theta.length) {
                throw new IllegalArgumentException("head width " + x[h].length + ", head dim " + 2 * theta.length);
            }
            out[h] = rotate(x[h], 0, theta);
        }
        return out;
    }

    /** RoPE on a sequence {@code x [S][heads·headDim]} (heads contiguous) with {@code ids [S][axes]}. */
    public static double[][] rope(Dims d, int[][] ids, double[][] x) {
        if (ids.length != x.length) {
            throw new IllegalArgumentException(ids.length + " id rows for " + x.length + " tokens");
        }
        int hd = d.headDim();
        double[][] out = new double[x.length][];
        for (int s = 0; s < x.length; s++) {
            double[] theta = ropeAngles(d, ids[s]);
            out[s] = new double[x[s].length];
            for (int h = 0; h < x[s].length / hd; h++) {
                System.arraycopy(rotate(x[s], h * hd, theta), 0, out[s], h * hd, hd);
            }
        }
        return out;
    }

    private static double[] rotate(double[] x, int offset, double[] theta) {
        double[] out = new double[2 * theta.length];
        for (int j = 0; j < theta.length; j++) {
            double cos = Math.cos(theta[j]);
            double sin = Math.sin(theta[j]);
            double x0 = x[offset + 2 * j];
            double x1 = x[offset + 2 * j + 1];
            out[2 * j] = x0 * cos - x1 * sin;
            out[2 * j + 1] = x0 * sin + x1 * cos;
        }
        return out;
    }

    // ---- A3.6 / A3.7 block -----------------------------------------------------------------------------------

    /**
     * {@code prefix.adaLN_modulation.0(c)} split into its four {@code dim}-wide chunks, already transformed:
     * {@code {1 + scale_msa, tanh(gate_msa), 1 + scale_mlp, tanh(gate_mlp)}} (upstream chunk order scale_msa,
     * gate_msa, scale_mlp, gate_mlp; no SiLU in front of the Linear).
     */
    public static double[][] modulation(Dims d, String prefix, double[] c, Function<String, double[]> w) {
        int dim = d.dim();
        double[] m = linear(c, 1, d.adaLnDim(), 4 * dim, prefix + ".adaLN_modulation.0", true, w);
        double[][] out = new double[4][dim];
        for (int j = 0; j < dim; j++) {
            out[0][j] = 1 + m[j];
            out[1][j] = Math.tanh(m[dim + j]);
            out[2][j] = 1 + m[2 * dim + j];
            out[3][j] = Math.tanh(m[3 * dim + j]);
        }
        return out;
    }

    /**
     * {@code prefix.attention} on an already normalised/scaled input {@code y [S][dim]}: q, k, v (no bias), per-head
     * RMSNorm of q and k (eps 1e-5), RoPE with {@code ids}, softmax(q·kᵀ/√headDim)·v over all S keys (no mask),
     * {@code to_out.0} (no bias).
     */
    public static double[][] attention(Dims d, String prefix, double[][] y, int[][] ids,
            Function<String, double[]> w) {
        int s = y.length;
        int dim = d.dim();
        int hd = d.headDim();
        String p = prefix + ".attention.";
        double[] flat = flatten(y);
        double[] q = linear(flat, s, dim, dim, p + "to_q", false, w);
        double[] k = linear(flat, s, dim, dim, p + "to_k", false, w);
        double[] v = linear(flat, s, dim, dim, p + "to_v", false, w);
        q = ReferenceMath.rmsNorm(q, s * d.heads(), hd, get(w, p + "norm_q.weight", hd), QK_NORM_EPS);
        k = ReferenceMath.rmsNorm(k, s * d.heads(), hd, get(w, p + "norm_k.weight", hd), QK_NORM_EPS);
        q = flatten(rope(d, ids, unflatten(q, dim)));
        k = flatten(rope(d, ids, unflatten(k, dim)));
        double[] o = ReferenceMath.attention(q, k, v, 1, s, s, d.heads(), d.heads(), hd, null, null);
        return unflatten(linear(o, s, dim, dim, p + "to_out.0", false, w), dim);
    }

    /** {@code prefix.feed_forward}: {@code w2(SiLU(w1·y) ⊙ (w3·y))}, no biases. */
    public static double[][] feedForward(Dims d, String prefix, double[][] y, Function<String, double[]> w) {
        int s = y.length;
        int dim = d.dim();
        int hidden = d.ffnHidden();
        String p = prefix + ".feed_forward.";
        double[] flat = flatten(y);
        double[] a = linear(flat, s, dim, hidden, p + "w1", false, w);
        double[] b = linear(flat, s, dim, hidden, p + "w3", false, w);
        double[] g = new double[a.length];
        for (int i = 0; i < g.length; i++) {
            g[i] = ReferenceMath.silu(a[i]) * b[i];
        }
        return unflatten(linear(g, s, hidden, dim, p + "w2", false, w), dim);
    }

    /**
     * One {@code ZImageTransformerBlock} at {@code prefix} (e.g. "layers.0", "noise_refiner.1",
     * "context_refiner.0") on {@code x [S][dim]} with position ids {@code ids [S][3]}. With {@code c} (modulated:
     * noise_refiner, layers): {@code x += tanh(g_msa) ⊙ norm2(Attn(norm1(x) ⊙ (1 + s_msa)))}, then
     * {@code x += tanh(g_mlp) ⊙ ffn_norm2(FFN(ffn_norm1(x) ⊙ (1 + s_mlp)))}. With {@code c == null}
     * (context_refiner): the same without scales and gates. RMSNorm eps = normEps.
     */
    public static double[][] block(Dims d, String prefix, double[][] x, int[][] ids, double[] c,
            Function<String, double[]> w) {
        double[][] mod = c == null ? null : modulation(d, prefix, c, w);
        double[][] h = norm(d, prefix + ".attention_norm1", x, w);
        if (mod != null) {
            h = scaleRows(h, mod[0]);
        }
        double[][] a = norm(d, prefix + ".attention_norm2", attention(d, prefix, h, ids, w), w);
        double[][] x1 = residual(x, a, mod == null ? null : mod[1]);
        double[][] f = norm(d, prefix + ".ffn_norm1", x1, w);
        if (mod != null) {
            f = scaleRows(f, mod[2]);
        }
        f = norm(d, prefix + ".ffn_norm2", feedForward(d, prefix, f, w), w);
        return residual(x1, f, mod == null ? null : mod[3]);
    }

    private static double[][] norm(Dims d, String name, double[][] x, Function<String, double[]> w) {
        double[] y = ReferenceMath.rmsNorm(flatten(x), x.length, d.dim(), get(w, name + ".weight", d.dim()),
                d.normEps());
        return unflatten(y, d.dim());
    }

    private static double[][] scaleRows(double[][] x, double[] scale) {
        double[][] out = new double[x.length][];
        for (int s = 0; s < x.length; s++) {
            out[s] = new double[x[s].length];
            for (int j = 0; j < x[s].length; j++) {
                out[s][j] = x[s][j] * scale[j];
            }
        }
        return out;
    }

    /** {@code x + gate ⊙ a} ({@code gate == null}: {@code x + a}). */
    private static double[][] residual(double[][] x, double[][] a, double[] gate) {
        double[][] out = new double[x.length][];
        for (int s = 0; s < x.length; s++) {
            out[s] = new double[x[s].length];
            for (int j = 0; j < x[s].length; j++) {
                out[s][j] = x[s][j] + (gate == null ? 1 : gate[j]) * a[s][j];
            }
        }
        return out;
    }

    // ---- A3.3 embedders ------------------------------------------------------------------------------------

    /**
     * {@code all_x_embedder.{p}-1} on the patchified latent, padded to {@code paddedLength(N_img)} rows; pad rows are
     * {@code x_pad_token} (upstream embeds copies of the last patch and then overwrites them, so only the pad token
     * matters). Returns {@code [Nx][dim]}.
     */
    public static double[][] embedImage(Dims d, double[] latent, int h, int w, Function<String, double[]> wt) {
        double[][] patches = patchify(latent, d.inChannels(), h, w, d.patch());
        double[] e = linear(flatten(patches), patches.length, d.patchDim(), d.dim(),
                "all_x_embedder." + d.patchKey(), true, wt);
        return padRows(unflatten(e, d.dim()), get(wt, "x_pad_token", d.dim()));
    }

    /**
     * {@code cap_embedder} = Linear(RMSNorm(E; eps normEps)) on {@code capFeats [L][capFeatDim]}, padded to
     * {@code paddedLength(L)} rows of {@code cap_pad_token}. Returns {@code [Lc][dim]}.
     */
    public static double[][] embedCaption(Dims d, double[][] capFeats, Function<String, double[]> w) {
        int l = capFeats.length;
        double[] y = ReferenceMath.rmsNorm(flatten(capFeats), l, d.capFeatDim(),
                get(w, "cap_embedder.0.weight", d.capFeatDim()), d.normEps());
        y = linear(y, l, d.capFeatDim(), d.dim(), "cap_embedder.1", true, w);
        return padRows(unflatten(y, d.dim()), get(w, "cap_pad_token", d.dim()));
    }

    private static double[][] padRows(double[][] rows, double[] pad) {
        double[][] out = Arrays.copyOf(rows, paddedLength(rows.length));
        for (int k = rows.length; k < out.length; k++) {
            out[k] = pad.clone();
        }
        return out;
    }

    // ---- A3.8 stages ---------------------------------------------------------------------------------------

    /**
     * Steps 1-3 of A3.8: c = timestep embedding; image tokens embedded, padded and run through
     * {@code noise_refiner.*} (modulated, image ids); caption tokens embedded, padded and run through
     * {@code context_refiner.*} (unmodulated, caption ids); then the unified sequence [image ; caption].
     */
    public static Prologue prologue(Dims d, double[] latent, int h, int w, double t, double[][] capFeats,
            Function<String, double[]> wt) {
        double[] c = timestepEmbedding(d, t, wt);
        int ht = h / d.patch();
        int wd = w / d.patch();
        double[][] x = embedImage(d, latent, h, w, wt);
        int[][] xIds = imagePositionIds(capFeats.length, ht, wd);
        for (int i = 0; i < d.refinerLayers(); i++) {
            x = block(d, "noise_refiner." + i, x, xIds, c, wt);
        }
        double[][] y = embedCaption(d, capFeats, wt);
        int[][] yIds = captionPositionIds(capFeats.length);
        for (int i = 0; i < d.refinerLayers(); i++) {
            y = block(d, "context_refiner." + i, y, yIds, null, wt);
        }
        double[][] u = new double[x.length + y.length][];
        int[][] ids = new int[x.length + y.length][];
        System.arraycopy(x, 0, u, 0, x.length);
        System.arraycopy(y, 0, u, x.length, y.length);
        System.arraycopy(xIds, 0, ids, 0, x.length);
        System.arraycopy(yIds, 0, ids, x.length, y.length);
        return new Prologue(u, ids, c, ht * wd, x.length, capFeats.length, y.length);
    }

    /** {@code layers.0 .. layers.(n−1)} on the unified sequence, all modulated by c. */
    public static double[][] mainLayers(Dims d, double[][] x, int[][] ids, double[] c, Function<String, double[]> w) {
        for (int i = 0; i < d.layers(); i++) {
            x = block(d, "layers." + i, x, ids, c, w);
        }
        return x;
    }

    /**
     * {@code all_final_layer.{p}-1} on every row: {@code linear(LayerNorm(x; no affine, eps 1e-6) ⊙ (1 +
     * adaLN_modulation.1(SiLU(c))))} → {@code [S][p·p·C]}. No shift, no gate.
     */
    public static double[][] finalLayer(Dims d, double[][] x, double[] c, Function<String, double[]> w) {
        String p = "all_final_layer." + d.patchKey() + ".";
        int dim = d.dim();
        double[] scale = linear(ReferenceMath.map(c, ReferenceMath::silu), 1, d.adaLnDim(), dim,
                p + "adaLN_modulation.1", true, w);
        for (int j = 0; j < dim; j++) {
            scale[j] += 1;
        }
        double[][] n = scaleRows(unflatten(ReferenceMath.layerNorm(flatten(x), x.length, dim, null, null,
                FINAL_NORM_EPS), dim), scale);
        return unflatten(linear(flatten(n), x.length, dim, d.patchDim(), p + "linear", true, w), d.patchDim());
    }

    /**
     * The whole forward for one frame: {@code latent [C, H, W]}, the model's {@code t} in [0, 1] (= 1 − σ in the
     * pipeline), {@code capFeats [L][capFeatDim]} (valid rows only) → the model output {@code [C, H, W]} (not yet
     * negated; the pipeline uses {@code −output} as the velocity).
     */
    public static double[] forward(Dims d, double[] latent, int h, int w, double t, double[][] capFeats,
            Function<String, double[]> wt) {
        Prologue p = prologue(d, latent, h, w, t, capFeats, wt);
        double[][] x = mainLayers(d, p.x(), p.ids(), p.c(), wt);
        return unpatchify(finalLayer(d, x, p.c(), wt), d.inChannels(), h, w, d.patch());
    }

    // ---- weights -------------------------------------------------------------------------------------------

    /** Every tensor of spec A2 with its shape, in module order (for {@code Dims.zImageTurbo()}: 521 tensors). */
    public static Map<String, int[]> shapes(Dims d) {
        Map<String, int[]> s = new LinkedHashMap<>();
        int dim = d.dim();
        int hd = d.headDim();
        int ff = d.ffnHidden();
        int ada = d.adaLnDim();
        String key = d.patchKey();
        s.put("all_x_embedder." + key + ".weight", new int[] {dim, d.patchDim()});
        s.put("all_x_embedder." + key + ".bias", new int[] {dim});
        s.put("all_final_layer." + key + ".linear.weight", new int[] {d.patchDim(), dim});
        s.put("all_final_layer." + key + ".linear.bias", new int[] {d.patchDim()});
        s.put("all_final_layer." + key + ".adaLN_modulation.1.weight", new int[] {dim, ada});
        s.put("all_final_layer." + key + ".adaLN_modulation.1.bias", new int[] {dim});
        for (int i = 0; i < d.refinerLayers(); i++) {
            blockShapes(s, "noise_refiner." + i, true, dim, hd, ff, ada);
        }
        for (int i = 0; i < d.refinerLayers(); i++) {
            blockShapes(s, "context_refiner." + i, false, dim, hd, ff, ada);
        }
        s.put("t_embedder.mlp.0.weight", new int[] {T_MID, T_FREQ_DIM});
        s.put("t_embedder.mlp.0.bias", new int[] {T_MID});
        s.put("t_embedder.mlp.2.weight", new int[] {ada, T_MID});
        s.put("t_embedder.mlp.2.bias", new int[] {ada});
        s.put("cap_embedder.0.weight", new int[] {d.capFeatDim()});
        s.put("cap_embedder.1.weight", new int[] {dim, d.capFeatDim()});
        s.put("cap_embedder.1.bias", new int[] {dim});
        s.put("x_pad_token", new int[] {1, dim});
        s.put("cap_pad_token", new int[] {1, dim});
        for (int i = 0; i < d.layers(); i++) {
            blockShapes(s, "layers." + i, true, dim, hd, ff, ada);
        }
        return s;
    }

    private static void blockShapes(Map<String, int[]> s, String p, boolean modulated, int dim, int hd, int ff,
            int ada) {
        for (String m : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
            s.put(p + ".attention." + m + ".weight", new int[] {dim, dim});
        }
        s.put(p + ".attention.norm_q.weight", new int[] {hd});
        s.put(p + ".attention.norm_k.weight", new int[] {hd});
        s.put(p + ".feed_forward.w1.weight", new int[] {ff, dim});
        s.put(p + ".feed_forward.w2.weight", new int[] {dim, ff});
        s.put(p + ".feed_forward.w3.weight", new int[] {ff, dim});
        for (String n : new String[] {"attention_norm1", "attention_norm2", "ffn_norm1", "ffn_norm2"}) {
            s.put(p + "." + n + ".weight", new int[] {dim});
        }
        if (modulated) {
            s.put(p + ".adaLN_modulation.0.weight", new int[] {4 * dim, ada});
            s.put(p + ".adaLN_modulation.0.bias", new int[] {4 * dim});
        }
    }

    /**
     * Deterministic random weights for every tensor of {@link #shapes}: Linear weights uniform with variance
     * {@code 1/in} (adaLN Linears half that amplitude, so gates and scales stay well inside tanh's range), biases
     * uniform ±0.1, norm weights {@code 1 ± 0.1}, pad tokens uniform ±1. Activations stay O(1).
     */
    public static Map<String, double[]> randomWeights(Dims d, long seed) {
        Random r = new Random(seed);
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : shapes(d).entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int k : shape) {
                n *= k;
            }
            double[] v = new double[n];
            double lo;
            double amp;
            if (name.endsWith("_pad_token")) {
                lo = 0;
                amp = 1;
            } else if (name.endsWith(".bias")) {
                lo = 0;
                amp = 0.1;
            } else if (shape.length == 1) { // RMSNorm weights
                lo = 1;
                amp = 0.1;
            } else {
                lo = 0;
                amp = Math.sqrt(3.0 / shape[1]) * (name.contains("adaLN_modulation") ? 0.5 : 1);
            }
            for (int i = 0; i < n; i++) {
                v[i] = lo + amp * (2 * r.nextDouble() - 1);
            }
            out.put(name, v);
        }
        return out;
    }

    /** {@code map::get} that fails on a missing name instead of returning null. */
    public static Function<String, double[]> lookup(Map<String, double[]> weights) {
        return name -> {
            double[] v = weights.get(name);
            if (v == null) {
                throw new IllegalArgumentException("no weight " + name);
            }
            return v;
        };
    }

    // ---- primitives ----------------------------------------------------------------------------------------

    private static double[] get(Function<String, double[]> w, String name, int size) {
        double[] v = w.apply(name);
        if (v == null) {
            throw new IllegalArgumentException("no weight " + name);
        }
        if (v.length != size) {
            throw new IllegalArgumentException(name + " has " + v.length + " values, expected " + size);
        }
        return v;
    }

    /** {@code x [rows, in] · Wᵀ (+ b)}: {@code prefix.weight [out, in]} and, if {@code bias}, {@code prefix.bias}. */
    private static double[] linear(double[] x, int rows, int in, int out, String prefix, boolean bias,
            Function<String, double[]> w) {
        double[] b = bias ? get(w, prefix + ".bias", out) : null;
        return ReferenceMath.linear(x, get(w, prefix + ".weight", out * in), b, rows, in, out);
    }
}
