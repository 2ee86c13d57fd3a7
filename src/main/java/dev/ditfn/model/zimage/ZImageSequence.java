package dev.ditfn.model.zimage;

import java.util.Arrays;

/**
 * How one sample enters and leaves the Z-Image DiT (zimage-edit-spec A3.2-A3.4, A3.8 step 6): the latent
 * {@code [C, H, W]} cut into 2×2 patches with the channel fastest ({@code feat[(ph·2 + pw)·C + c]}), image and caption
 * padded to multiples of 32 by repeating their last row (the graph replaces pad rows by the learned pad tokens), and
 * the position ids: caption token {@code k} (pads included) {@code (1 + k, 0, 0)}, image token {@code (h, w)}
 * {@code (Lc + 1, h, w)} with {@code Lc} the padded caption length, image pads {@code (0, 0, 0)}.
 *
 * @param channels      latent channels {@code C}
 * @param height        latent height {@code H} (even)
 * @param width         latent width {@code W} (even)
 * @param captionLength caption rows before padding
 */
public record ZImageSequence(int channels, int height, int width, int captionLength) {
    private static final int P = ZImageTransformerConfig.PATCH;
    private static final int MULTIPLE = ZImageTransformerConfig.SEQ_MULTI_OF;

    public ZImageSequence {
        if (height % P != 0 || width % P != 0 || height < P || width < P) {
            throw new IllegalArgumentException("latent " + height + "x" + width + " must be a positive multiple of "
                    + P + " on each side");
        }
        if (captionLength < 1) {
            throw new IllegalArgumentException("the caption needs at least one token");
        }
    }

    public int imageTokens() {
        return (height / P) * (width / P);
    }

    /** Image rows after padding, {@code Nx}. */
    public int paddedImageTokens() {
        return padded(imageTokens());
    }

    /** Caption rows after padding, {@code Lc}. */
    public int paddedCaptionTokens() {
        return padded(captionLength);
    }

    public int patchDim() {
        return P * P * channels;
    }

    private static int padded(int n) {
        return n + Math.floorMod(-n, MULTIPLE);
    }

    /** {@code latent [C, H, W]} as {@code [Nx, 4C]} patch rows, pad rows repeating the last real one. */
    public float[] patchify(float[] latent) {
        float[] out = new float[paddedImageTokens() * patchDim()];
        copyPatches(latent, out, true);
        repeatLastRow(out, imageTokens(), patchDim());
        return out;
    }

    /** The inverse of {@link #patchify} on the first {@link #imageTokens()} rows of {@code rows [>= N, 4C]}. */
    public float[] unpatchify(float[] rows) {
        float[] latent = new float[channels * height * width];
        copyPatches(latent, rows, false);
        return latent;
    }

    /** Copies between the latent and the patch rows, {@code feat[(ph·2 + pw)·C + c] = X[c, 2h+ph, 2w+pw]}. */
    private void copyPatches(float[] latent, float[] rows, boolean toRows) {
        int wt = width / P;
        int dim = patchDim();
        for (int h = 0; h < height / P; h++) {
            for (int w = 0; w < wt; w++) {
                int row = (h * wt + w) * dim;
                for (int ph = 0; ph < P; ph++) {
                    for (int pw = 0; pw < P; pw++) {
                        for (int c = 0; c < channels; c++) {
                            int r = row + (ph * P + pw) * channels + c;
                            int l = (c * height + h * P + ph) * width + w * P + pw;
                            if (toRows) {
                                rows[r] = latent[l];
                            } else {
                                latent[l] = rows[r];
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code caption [L, dim]} padded to {@code [Lc, dim]} by repeating the last row. */
    public float[] padCaption(float[] caption, int dim) {
        if (caption.length != captionLength * dim) {
            throw new IllegalArgumentException("caption has " + caption.length + " values, expected " + captionLength
                    + " x " + dim);
        }
        float[] out = Arrays.copyOf(caption, paddedCaptionTokens() * dim);
        repeatLastRow(out, captionLength, dim);
        return out;
    }

    /** 1 on image pad rows, {@code [Nx]}. */
    public float[] imagePadMask() {
        return padMask(imageTokens(), paddedImageTokens());
    }

    /** 1 on caption pad rows, {@code [Lc]}. */
    public float[] captionPadMask() {
        return padMask(captionLength, paddedCaptionTokens());
    }

    public int[][] imagePositionIds() {
        int wt = width / P;
        int[][] ids = new int[paddedImageTokens()][];
        for (int t = 0; t < ids.length; t++) {
            ids[t] = t < imageTokens() ? new int[] {paddedCaptionTokens() + 1, t / wt, t % wt} : new int[3];
        }
        return ids;
    }

    public int[][] captionPositionIds() {
        int[][] ids = new int[paddedCaptionTokens()][];
        for (int k = 0; k < ids.length; k++) {
            ids[k] = new int[] {1 + k, 0, 0};
        }
        return ids;
    }

    private static float[] padMask(int real, int total) {
        float[] m = new float[total];
        Arrays.fill(m, real, total, 1f);
        return m;
    }

    private static void repeatLastRow(float[] rows, int real, int dim) {
        for (int t = real; t < rows.length / dim; t++) {
            System.arraycopy(rows, (real - 1) * dim, rows, t * dim, dim);
        }
    }
}
