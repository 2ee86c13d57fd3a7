package dev.ditfn.model.vision;

import static dev.ditfn.testing.ReferenceMath.add;
import static dev.ditfn.testing.ReferenceMath.linear;
import static dev.ditfn.testing.ReferenceMath.rmsNorm;

import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.WeightStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Plain-Java double-precision reference of Qwen2.5-VL's vision tower, written the way transformers'
 * {@code Qwen2_5_VisionTransformerPretrainedModel.forward} computes it rather than the way the graph does: patch embed
 * as the Conv3d (kernel = stride) on each row viewed as {@code [C, T, p, p]}; {@code rot_pos_emb} by the literal
 * reshape/permute of the row and column grids; {@code get_window_index} by padding the merged grid with -100 and
 * reading windows out; tokens and RoPE rows permuted into window-major order in groups of 4; each block's attention
 * run separately on every {@code cu_seqlens} segment (the windows, or the whole image in full blocks); the merger; and
 * the permutation undone at the end. {@link #withoutWindows()} runs every block over the whole image, for tests that
 * show the window mask matters. Tensors are flat row-major arrays.
 */
final class QwenVisionReference {
    private final QwenVisionConfig c;
    private final WeightStore store;
    private final String prefix;
    private final Map<String, double[]> cache = new HashMap<>();
    private boolean windows = true;

    QwenVisionReference(QwenVisionConfig config, WeightStore store) {
        this.c = config;
        this.store = store;
        // No store: only the weight-free pieces (RoPE angles, window index) are usable.
        this.prefix = store == null || store.contains("visual.patch_embed.proj.weight") ? "visual." : "model.visual.";
    }

    /** Every block attends over the whole image (as if the window mask were dropped). */
    QwenVisionReference withoutWindows() {
        windows = false;
        return this;
    }

    private double[] w(String name) {
        return cache.computeIfAbsent(name, n -> ReferenceMath.weight(store, n));
    }

    /** The tower's output {@code [P/4, out_hidden]} for {@code pixels [P, C·T·p·p]} of a {@code gh × gw} grid. */
    double[] forward(double[] pixels, int gh, int gw) {
        int p = gh * gw;
        int unit = c.mergeUnit();
        int[] index = windowIndex(gh, gw);
        double[] x = permute(patchEmbed(pixels, p), index, unit * c.hiddenSize());
        double[] angles = permute(rotPosEmb(gh, gw), index, unit * c.headDim() / 2);
        int[] windowed = cuWindowSeqlens(gh, gw);
        int[] full = {0, p};
        for (int i = 0; i < c.depth(); i++) {
            int[] cu = c.fullAttention(i) || !windows ? full : windowed;
            x = block(x, p, angles, cu, prefix + "blocks." + i + ".");
        }
        double[] y = merger(x, p);
        return unpermute(y, index, c.outHiddenSize());
    }

    /**
     * Block {@code i} alone on {@code x [P, hidden]} in natural order, as the tower runs it: permuted, attention per
     * window (or over the image for a full block), permuted back.
     */
    double[] block(double[] x, int gh, int gw, int i) {
        int p = gh * gw;
        int unit = c.mergeUnit();
        int[] index = windowIndex(gh, gw);
        double[] angles = permute(rotPosEmb(gh, gw), index, unit * c.headDim() / 2);
        int[] cu = c.fullAttention(i) || !windows ? new int[] {0, p} : cuWindowSeqlens(gh, gw);
        double[] y = block(permute(x, index, unit * c.hiddenSize()), p, angles, cu, prefix + "blocks." + i + ".");
        return unpermute(y, index, unit * c.hiddenSize());
    }

    // ---- upstream's pieces -------------------------------------------------------------------------------

    /** Each row viewed as {@code [1, C, T, p, p]} through the Conv3d with kernel = stride, no bias. */
    double[] patchEmbed(double[] pixels, int rows) {
        int h = c.hiddenSize();
        int f = c.patchFeatures();
        int[] xShape = {1, c.inChannels(), c.temporalPatchSize(), c.patchSize(), c.patchSize()};
        int[] wShape = {h, c.inChannels(), c.temporalPatchSize(), c.patchSize(), c.patchSize()};
        int[] stride = {c.temporalPatchSize(), c.patchSize(), c.patchSize()};
        double[] out = new double[rows * h];
        for (int r = 0; r < rows; r++) {
            double[] row = java.util.Arrays.copyOfRange(pixels, r * f, (r + 1) * f);
            double[] y = ReferenceMath.conv3d(row, xShape, w(prefix + "patch_embed.proj.weight"), wShape, null, stride,
                    new int[6]);
            System.arraycopy(y, 0, out, r * h, h);
        }
        return out;
    }

    /**
     * {@code rot_pos_emb}: {@code [P, head_dim/2]} angles, row {@code p} = {@code [hpos·inv, wpos·inv]} where the
     * position grids are {@code arange} over rows/columns reshaped to {@code [h/m, m, w/m, m]}, permuted
     * {@code (0, 2, 1, 3)} and flattened.
     */
    double[] rotPosEmb(int gh, int gw) {
        int m = c.spatialMergeSize();
        int quarter = c.headDim() / 4;
        double[] hpos = new double[gh * gw];
        double[] wpos = new double[gh * gw];
        for (int r = 0; r < gh; r++) {
            for (int col = 0; col < gw; col++) {
                hpos[r * gw + col] = r;
                wpos[r * gw + col] = col;
            }
        }
        long[] shape = {gh / m, m, gw / m, m};
        hpos = ReferenceMath.transpose(hpos, shape, 0, 2, 1, 3);
        wpos = ReferenceMath.transpose(wpos, shape, 0, 2, 1, 3);
        double[] out = new double[gh * gw * 2 * quarter];
        for (int p = 0; p < gh * gw; p++) {
            for (int j = 0; j < quarter; j++) {
                double inv = 1.0 / Math.pow(QwenVisionConfig.ROPE_THETA, 2.0 * j / (2 * quarter));
                out[p * 2 * quarter + j] = hpos[p] * inv;
                out[p * 2 * quarter + quarter + j] = wpos[p] * inv;
            }
        }
        return out;
    }

    /** {@code get_window_index}'s {@code window_index}: merged-token indices in window-major order. */
    int[] windowIndex(int gh, int gw) {
        List<Integer> index = new ArrayList<>();
        windows(gh, gw, index, new ArrayList<>());
        return index.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code get_window_index}'s {@code cu_window_seqlens} in patches, after {@code unique_consecutive}. */
    int[] cuWindowSeqlens(int gh, int gw) {
        List<Integer> seqlens = new ArrayList<>();
        windows(gh, gw, new ArrayList<>(), seqlens);
        List<Integer> cu = new ArrayList<>(List.of(0));
        for (int s : seqlens) {
            int next = cu.get(cu.size() - 1) + s * c.mergeUnit();
            if (next != cu.get(cu.size() - 1)) {
                cu.add(next);
            }
        }
        return cu.stream().mapToInt(Integer::intValue).toArray();
    }

    private void windows(int gh, int gw, List<Integer> index, List<Integer> seqlens) {
        int ws = c.windowSize() / c.spatialMergeSize() / c.patchSize();
        int lh = gh / c.spatialMergeSize();
        int lw = gw / c.spatialMergeSize();
        int padH = ws - lh % ws;
        int padW = ws - lw % ws;
        int nh = (lh + padH) / ws;
        int nw = (lw + padW) / ws;
        int[][] padded = new int[lh + padH][lw + padW];
        for (int r = 0; r < lh + padH; r++) {
            for (int col = 0; col < lw + padW; col++) {
                padded[r][col] = r < lh && col < lw ? r * lw + col : -100;
            }
        }
        for (int wr = 0; wr < nh; wr++) {
            for (int wc = 0; wc < nw; wc++) {
                int n = 0;
                for (int i = 0; i < ws; i++) {
                    for (int j = 0; j < ws; j++) {
                        int v = padded[wr * ws + i][wc * ws + j];
                        if (v != -100) {
                            index.add(v);
                            n++;
                        }
                    }
                }
                seqlens.add(n);
            }
        }
    }

    /** Groups of {@code width} values reordered: group {@code k} of the result is group {@code index[k]}. */
    static double[] permute(double[] x, int[] index, int width) {
        double[] out = new double[x.length];
        for (int k = 0; k < index.length; k++) {
            System.arraycopy(x, index[k] * width, out, k * width, width);
        }
        return out;
    }

    /** The inverse of {@link #permute} ({@code x[argsort(index)]}). */
    static double[] unpermute(double[] x, int[] index, int width) {
        double[] out = new double[x.length];
        for (int k = 0; k < index.length; k++) {
            System.arraycopy(x, k * width, out, index[k] * width, width);
        }
        return out;
    }

    /** One block on {@code x [P, hidden]} with RoPE {@code angles [P, head_dim/2]}, attention per segment of {@code cu}. */
    double[] block(double[] x, int rows, double[] angles, int[] cu, String bp) {
        int h = c.hiddenSize();
        int heads = c.numHeads();
        int hd = c.headDim();
        double eps = QwenVisionConfig.RMS_NORM_EPS;
        String a = bp + "attn.";
        double[] n = rmsNorm(x, rows, h, w(bp + "norm1.weight"), eps);
        double[] qkv = linear(n, w(a + "qkv.weight"), w(a + "qkv.bias"), rows, h, 3 * h);
        double[] q = rope(ReferenceMath.columns(qkv, 3 * h, 0, h), rows, angles);
        double[] k = rope(ReferenceMath.columns(qkv, 3 * h, h, 2 * h), rows, angles);
        double[] v = ReferenceMath.columns(qkv, 3 * h, 2 * h, 3 * h);
        double[] attn = new double[rows * h];
        for (int s = 0; s + 1 < cu.length; s++) {
            int from = cu[s] * h;
            int to = cu[s + 1] * h;
            int len = cu[s + 1] - cu[s];
            double[] o = ReferenceMath.attention(java.util.Arrays.copyOfRange(q, from, to),
                    java.util.Arrays.copyOfRange(k, from, to), java.util.Arrays.copyOfRange(v, from, to), 1, len, len,
                    heads, heads, hd, null, null);
            System.arraycopy(o, 0, attn, from, o.length);
        }
        double[] x1 = add(x, linear(attn, w(a + "proj.weight"), w(a + "proj.bias"), rows, h, h));
        String m = bp + "mlp.";
        int inter = c.intermediateSize();
        n = rmsNorm(x1, rows, h, w(bp + "norm2.weight"), eps);
        double[] gate = linear(n, w(m + "gate_proj.weight"), w(m + "gate_proj.bias"), rows, h, inter);
        double[] up = linear(n, w(m + "up_proj.weight"), w(m + "up_proj.bias"), rows, h, inter);
        double[] act = new double[gate.length];
        for (int i = 0; i < act.length; i++) {
            act[i] = ReferenceMath.silu(gate[i]) * up[i];
        }
        return add(x1, linear(act, w(m + "down_proj.weight"), w(m + "down_proj.bias"), rows, inter, h));
    }

    /** {@code apply_rotary_pos_emb_vision} on {@code x [rows, heads·hd]}: emb = cat(angles, angles), rotate-half. */
    private double[] rope(double[] x, int rows, double[] angles) {
        int hd = c.headDim();
        int half = hd / 2;
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int hh = 0; hh < c.numHeads(); hh++) {
                int base = (r * c.numHeads() + hh) * hd;
                for (int d = 0; d < hd; d++) {
                    double angle = angles[r * half + d % half];
                    double rot = d < half ? -x[base + d + half] : x[base + d - half];
                    out[base + d] = x[base + d] * Math.cos(angle) + rot * Math.sin(angle);
                }
            }
        }
        return out;
    }

    /** {@code Qwen2_5_VLPatchMerger}: {@code mlp(ln_q(x).view(-1, hidden·4))} with {@code mlp = [Linear, GELU, Linear]}. */
    double[] merger(double[] x, int rows) {
        int h = c.hiddenSize();
        int width = c.mergerWidth();
        int groups = rows / c.mergeUnit();
        String mp = prefix + "merger.";
        double[] y = rmsNorm(x, rows, h, w(mp + "ln_q.weight"), QwenVisionConfig.RMS_NORM_EPS);
        y = ReferenceMath.map(linear(y, w(mp + "mlp.0.weight"), w(mp + "mlp.0.bias"), groups, width, width),
                ReferenceMath::gelu);
        return linear(y, w(mp + "mlp.2.weight"), w(mp + "mlp.2.bias"), groups, width, c.outHiddenSize());
    }
}
