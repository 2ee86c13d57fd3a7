package dev.ditfn.model.vision;

import dev.ditfn.model.text.QwenTextInputs;

import java.util.Arrays;

/**
 * Plain-Java inputs of the {@link QwenVisionTower} graph for one image of {@code gridH × gridW} patches
 * ({@code image_grid_thw = [1, gridH, gridW]}), in the processor's row order: merge blocks ({@code m × m} patches,
 * {@code m = spatial_merge_size}) row-major over the merged grid, and inside a block its patches row-major
 * (zimage-edit-spec B4; {@code Qwen2VLImageProcessor._preprocess}'s transpose {@code (0,3,6,4,7,2,1,5,8)}).
 */
public final class QwenVisionInputs {
    private QwenVisionInputs() {
    }

    /** The patch-grid {@code {row, col}} of {@code pixel_values} row {@code p}. */
    public static int[] patchRowCol(int p, int gridW, int mergeSize) {
        int unit = mergeSize * mergeSize;
        int block = p / unit;
        int inner = p % unit;
        int mergedW = gridW / mergeSize;
        return new int[] {(block / mergedW) * mergeSize + inner / mergeSize,
                (block % mergedW) * mergeSize + inner % mergeSize};
    }

    /**
     * {@code pixel_values [gridH·gridW, C·T·p·p]} of one normalised image {@code chw [C, H, W]} (row-major,
     * {@code H = gridH·p}, {@code W = gridW·p}): the frame repeated {@code T = temporal_patch_size} times, each row one
     * patch in {@link #patchRowCol} order, features ordered (channel, t, y, x).
     */
    public static float[] patchify(float[] chw, int height, int width, QwenVisionConfig c) {
        int p = c.patchSize();
        int m = c.spatialMergeSize();
        int channels = c.inChannels();
        if (height % (p * m) != 0 || width % (p * m) != 0 || chw.length != channels * height * width) {
            throw new IllegalArgumentException("image " + channels + "x" + height + "x" + width + " (" + chw.length
                    + " values) must be " + channels + " channels with sides multiple of " + p * m);
        }
        int gridH = height / p;
        int gridW = width / p;
        int features = c.patchFeatures();
        float[] out = new float[gridH * gridW * features];
        for (int row = 0; row < gridH * gridW; row++) {
            int[] rc = patchRowCol(row, gridW, m);
            int f = row * features;
            for (int ch = 0; ch < channels; ch++) {
                for (int t = 0; t < c.temporalPatchSize(); t++) {
                    for (int y = 0; y < p; y++) {
                        int src = (ch * height + rc[0] * p + y) * width + rc[1] * p;
                        System.arraycopy(chw, src, out, f, p);
                        f += p;
                    }
                }
            }
        }
        return out;
    }

    /**
     * The 2-D rotate-half tables {@code rope_cos}, {@code rope_sin} {@code [gridH·gridW, headDim]} as
     * {@code rot_pos_emb} builds them: with {@code inv[j] = 1/theta^(2j/(headDim/2))}, {@code j < headDim/4} (fp32),
     * row {@code p} at patch {@code (r, c)} ({@link #patchRowCol}) holds the fp32 angles
     * {@code [r·inv, c·inv, r·inv, c·inv]}, then cos/sin of them rounded to fp32.
     */
    public static QwenTextInputs.Rope rope(int gridH, int gridW, int mergeSize, int headDim, double theta) {
        checkGrid(gridH, gridW, mergeSize);
        if (headDim % 4 != 0) {
            throw new IllegalArgumentException("vision head_dim must be a multiple of 4, got " + headDim);
        }
        int quarter = headDim / 4;
        float[] inv = new float[quarter];
        for (int j = 0; j < quarter; j++) {
            inv[j] = (float) (1.0 / Math.pow(theta, (2.0 * j) / (headDim / 2)));
        }
        int rows = gridH * gridW;
        float[] cos = new float[rows * headDim];
        float[] sin = new float[rows * headDim];
        for (int p = 0; p < rows; p++) {
            int[] rc = patchRowCol(p, gridW, mergeSize);
            for (int axis = 0; axis < 2; axis++) {
                for (int j = 0; j < quarter; j++) {
                    float angle = (float) rc[axis] * inv[j];
                    float cv = (float) Math.cos(angle);
                    float sv = (float) Math.sin(angle);
                    for (int half = 0; half < 2; half++) {
                        int d = p * headDim + half * 2 * quarter + axis * quarter + j;
                        cos[d] = cv;
                        sin[d] = sv;
                    }
                }
            }
        }
        return new QwenTextInputs.Rope(cos, sin, rows, headDim);
    }

    /**
     * The windowed blocks' batching of the patches ({@link QwenVisionTower}'s {@code window_rows},
     * {@code window_pad_bias}, {@code inverse_rows}) for a {@code gridH × gridW} patch grid.
     *
     * @param rows {@code [count · length]}: the {@code pixel_values} row in each slot, window after window, in
     *     {@code get_window_index}'s order; pad slots hold row 0
     * @param padBias {@code [count, 1, 1, length]}: 0 for a real slot, -inf for a pad slot
     * @param inverseRows {@code [P]}: the slot of each {@code pixel_values} row
     * @param count the windows {@code W} (the non-empty ones)
     * @param length the slots of a window, {@code mergedWindow² · mergeSize²} (64)
     */
    public record Windows(long[] rows, float[] padBias, long[] inverseRows, int count, int length) {
        /** Bytes of the three int64/float32 tensors. */
        public long bytes() {
            return 8L * rows.length + 4L * padBias.length + 8L * inverseRows.length;
        }
    }

    /**
     * {@link Windows} as {@code get_window_index} forms them: windows of {@code mergedWindow × mergedWindow} merged
     * tokens ({@code window_size // spatial_merge_size // patch_size}; 4, i.e. 8×8 patches) tile the merged grid from
     * the top-left, row-major, the right and bottom ones partial; inside a window its merged tokens row-major, each
     * contributing its {@code mergeSize²} consecutive {@code pixel_values} rows (the permutation of
     * {@code window_index} in groups of {@code spatial_merge_unit}); {@code cu_window_seqlens}' segments become the
     * windows, each padded to the full length so that they form a batch.
     */
    public static Windows windows(int gridH, int gridW, int mergeSize, int mergedWindow) {
        checkGrid(gridH, gridW, mergeSize);
        int unit = mergeSize * mergeSize;
        int length = mergedWindow * mergedWindow * unit;
        int mergedH = gridH / mergeSize;
        int mergedW = gridW / mergeSize;
        int windowsH = (mergedH + mergedWindow - 1) / mergedWindow;
        int windowsW = (mergedW + mergedWindow - 1) / mergedWindow;
        int count = windowsH * windowsW;
        long[] rows = new long[count * length];
        float[] padBias = new float[count * length];
        long[] inverse = new long[gridH * gridW];
        for (int w = 0; w < count; w++) {
            int slot = w * length;
            int r0 = (w / windowsW) * mergedWindow;
            int c0 = (w % windowsW) * mergedWindow;
            for (int r = r0; r < Math.min(r0 + mergedWindow, mergedH); r++) {
                for (int c = c0; c < Math.min(c0 + mergedWindow, mergedW); c++) {
                    for (int u = 0; u < unit; u++) {
                        int row = (r * mergedW + c) * unit + u;
                        rows[slot] = row;
                        inverse[row] = slot++;
                    }
                }
            }
            Arrays.fill(padBias, slot, (w + 1) * length, Float.NEGATIVE_INFINITY);
        }
        return new Windows(rows, padBias, inverse, count, length);
    }

    private static void checkGrid(int gridH, int gridW, int mergeSize) {
        if (gridH < mergeSize || gridW < mergeSize || gridH % mergeSize != 0 || gridW % mergeSize != 0) {
            throw new IllegalArgumentException("patch grid " + gridH + "x" + gridW + " must be positive multiples of "
                    + "spatial_merge_size " + mergeSize);
        }
    }
}
