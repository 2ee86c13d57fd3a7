package dev.ditfn.model.qwenimage;

import java.util.Arrays;
import java.util.List;

/**
 * RoPE angle tables of the Qwen-Image DiT ({@code QwenEmbedRope}, theta 10000, {@code scale_rope=True}; spec §2.4),
 * computed in plain Java and fed to the transformer graphs as the inputs {@code img_cos, img_sin, txt_cos, txt_sin}.
 *
 * <p>Layout: each table is a row-major float array of shape {@code [S, hd/2]}, one row per token, one column per
 * rotated channel pair. Column {@code k} holds {@code cos θ_k} (or {@code sin θ_k}) of the angle that rotates channels
 * {@code (2k, 2k+1)} of every head (interleaved pairs, not rotate-half). Columns follow the channel-pair order
 * {@code [frame axis: d_0/2 pairs] ++ [height axis: d_1/2 pairs] ++ [width axis: d_2/2 pairs]}, where
 * {@code (d_0, d_1, d_2) = axes_dims_rope}; the angle of pair {@code j} of axis {@code a} is {@code p_a · ω_{a,j}} with
 * {@code ω_{a,j} = 1 / 10000^(2j/d_a)} and {@code p_a} the token's position on that axis.
 *
 * <p>Positions: image token {@code r·w2 + c} (grid row {@code r}, column {@code c}) of frame {@code f} (image
 * {@code f} of {@code img_shapes}: 0 the noise, 1.. Edit's condition images) has
 * {@code (f, r − (h2 − ⌊h2/2⌋), c − (w2 − ⌊w2/2⌋))} (centred grid); text token {@code j} has all three positions
 * equal to {@code max over the images of max(⌊h2/2⌋, ⌊w2/2⌋) + j}.
 *
 * <p>Arithmetic mirrors upstream's fp32 tables: {@code ω} is rounded to fp32, the angle is the fp32 product
 * {@code position · ω}, and cos/sin of that fp32 angle are rounded to fp32. Upstream looks positions up in tables
 * for {@code [-4096, 4095]}; positions outside that range are rejected here.
 */
public final class QwenRope {
    /** Positions upstream has precomputed tables for: {@code [-MAX_POSITION, MAX_POSITION)}. */
    public static final int MAX_POSITION = 4096;

    private final int[] axesDims;
    private final float[][] omegas;
    private final int pairs;

    /** @param axesDims {@code axes_dims_rope}: three even dims (frame, height, width) summing to the head dim */
    public QwenRope(int... axesDims) {
        if (axesDims.length != 3) {
            throw new IllegalArgumentException("axes_dims_rope must have 3 entries, got " + Arrays.toString(axesDims));
        }
        this.axesDims = axesDims.clone();
        this.omegas = new float[3][];
        int p = 0;
        for (int a = 0; a < 3; a++) {
            int d = axesDims[a];
            if (d < 0 || d % 2 != 0) {
                throw new IllegalArgumentException(
                        "axes_dims_rope " + Arrays.toString(axesDims) + ": dims must be even");
            }
            omegas[a] = new float[d / 2];
            for (int j = 0; j < d / 2; j++) {
                // upstream: 1.0 / torch.pow(theta, arange(0, d, 2).float().div(d)), all in fp32
                float exponent = (float) (2 * j) / d;
                float pow = (float) Math.pow(QwenImageTransformerConfig.ROPE_THETA, exponent);
                omegas[a][j] = 1.0f / pow;
            }
            p += d / 2;
        }
        this.pairs = p;
    }

    public static QwenRope of(QwenImageTransformerConfig config) {
        return new QwenRope(config.axesDimsRope());
    }

    /** cos and sin of the rotation angles, each {@code [tokens, pairs]} row-major. */
    public record Tables(float[] cos, float[] sin, int tokens, int pairs) {
        /** The ORT/ONNX shape of either table. */
        public long[] shape() {
            return new long[] {tokens, pairs};
        }
    }

    /** Rotated channel pairs per head: {@code attention_head_dim / 2}. */
    public int pairs() {
        return pairs;
    }

    /** Tables for the {@code h2·w2} image tokens of one frame-0 image (token index {@code r·w2 + c}). */
    public Tables imageTables(int h2, int w2) {
        return imageTables(List.of(new int[] {h2, w2}));
    }

    /**
     * Tables for several images in one sequence, as {@code img_shapes} lists them (Edit: the noise grid, then each
     * condition image): image {@code i} is frame {@code i}, its tokens row-major on its own centred grid, the images
     * one after the other.
     *
     * @param grids {@code (h2, w2)} per image, in sequence order
     */
    public Tables imageTables(List<int[]> grids) {
        int n = 0;
        for (int[] g : grids) {
            checkGrid(g[0], g[1]);
            n = Math.addExact(n, Math.multiplyExact(g[0], g[1]));
        }
        Tables t = new Tables(new float[n * pairs], new float[n * pairs], n, pairs);
        int token = 0;
        for (int frame = 0; frame < grids.size(); frame++) {
            int h2 = grids.get(frame)[0];
            int w2 = grids.get(frame)[1];
            int rowOffset = h2 - h2 / 2;
            int colOffset = w2 - w2 / 2;
            for (int r = 0; r < h2; r++) {
                for (int c = 0; c < w2; c++) {
                    fill(t, token++, frame, r - rowOffset, c - colOffset);
                }
            }
        }
        return t;
    }

    /** Tables for {@code textLen} text tokens next to an {@code h2 × w2} image grid. */
    public Tables textTables(int textLen, int h2, int w2) {
        return textTables(textLen, List.of(new int[] {h2, w2}));
    }

    /** Tables for {@code textLen} text tokens next to the images {@code grids}: they start after the largest. */
    public Tables textTables(int textLen, List<int[]> grids) {
        if (textLen < 0) {
            throw new IllegalArgumentException("text length " + textLen + " must be >= 0");
        }
        int start = 0;
        for (int[] g : grids) {
            checkGrid(g[0], g[1]);
            start = Math.max(start, Math.max(g[0] / 2, g[1] / 2));
        }
        if ((long) start + textLen > MAX_POSITION) {
            throw new IllegalArgumentException("text positions " + start + ".." + (start + textLen - 1L)
                    + " exceed the RoPE range [0, " + MAX_POSITION + ")");
        }
        Tables t = new Tables(new float[textLen * pairs], new float[textLen * pairs], textLen, pairs);
        for (int j = 0; j < textLen; j++) {
            int p = start + j;
            fill(t, j, p, p, p);
        }
        return t;
    }

    private void fill(Tables t, int token, int pf, int ph, int pw) {
        int[] pos = {pf, ph, pw};
        int k = token * pairs;
        for (int a = 0; a < 3; a++) {
            for (float omega : omegas[a]) {
                float angle = pos[a] * omega; // fp32 product, as torch.outer on fp32
                t.cos()[k] = (float) Math.cos(angle);
                t.sin()[k] = (float) Math.sin(angle);
                k++;
            }
        }
    }

    private static void checkGrid(int h2, int w2) {
        if (h2 < 1 || w2 < 1) {
            throw new IllegalArgumentException("image grid " + h2 + "×" + w2 + " must be at least 1×1");
        }
        if (h2 - h2 / 2 > MAX_POSITION || w2 - w2 / 2 > MAX_POSITION || h2 / 2 > MAX_POSITION
                || w2 / 2 > MAX_POSITION) {
            throw new IllegalArgumentException("image grid " + h2 + "×" + w2 + " exceeds the RoPE position range ±"
                    + MAX_POSITION);
        }
    }

    @Override
    public String toString() {
        return "QwenRope" + Arrays.toString(axesDims);
    }
}
