package dev.ditfn.model.text;

import java.util.List;

/**
 * Plain-Java inputs of the {@link QwenTextEncoder} graph: padded id batches and attention masks, spec positions,
 * rotate-half RoPE tables and the additive causal + padding bias; for prompts with images (Qwen-Image-Edit), the
 * splice rows and Qwen2.5-VL's M-RoPE position ids and tables.
 */
public final class QwenTextInputs {
    private QwenTextInputs() {
    }

    /** A padded batch: {@code inputIds} and {@code attentionMask} both {@code [batch, length]} row-major. */
    public record Batch(long[] inputIds, long[] attentionMask, int batch, int length) {
        public Batch {
            if (batch < 1 || length < 1 || inputIds.length != (long) batch * length
                    || attentionMask.length != inputIds.length) {
                throw new IllegalArgumentException("batch of " + batch + " x " + length + " needs that many ids and "
                        + "mask values, got " + inputIds.length + " and " + attentionMask.length);
            }
        }

        /** The number of mask-1 positions of sample {@code b}. */
        public int validLength(int b) {
            int n = 0;
            for (int j = 0; j < length; j++) {
                n += attentionMask[b * length + j] != 0 ? 1 : 0;
            }
            return n;
        }
    }

    /** Pads {@code sequences} with {@code padId} to the longest one (right padding, as the Qwen2 tokenizer does). */
    public static Batch pad(List<long[]> sequences, long padId) {
        return pad(sequences, padId, false);
    }

    /** Pads {@code sequences} with {@code padId} to the longest one, on the left if {@code leftPad}. */
    public static Batch pad(List<long[]> sequences, long padId, boolean leftPad) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("no sequences to pad");
        }
        int length = sequences.stream().mapToInt(s -> s.length).max().orElseThrow();
        if (length == 0) {
            throw new IllegalArgumentException("all sequences are empty");
        }
        int batch = sequences.size();
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            long[] s = sequences.get(b);
            int offset = leftPad ? length - s.length : 0;
            for (int j = 0; j < length; j++) {
                int k = j - offset;
                boolean valid = k >= 0 && k < s.length;
                ids[b * length + j] = valid ? s[k] : padId;
                mask[b * length + j] = valid ? 1 : 0;
            }
        }
        return new Batch(ids, mask, batch, length);
    }

    /**
     * Spec positions {@code [batch, length]}: {@code cumsum(mask) - 1} per sample, 1 where the mask is 0
     * (valid tokens are 0, 1, 2, … whichever side is padded).
     */
    public static long[] positions(long[] mask, int batch, int length) {
        checkMask(mask, batch, length);
        long[] pos = new long[mask.length];
        for (int b = 0; b < batch; b++) {
            long sum = 0;
            for (int j = 0; j < length; j++) {
                sum += mask[b * length + j];
                pos[b * length + j] = mask[b * length + j] == 0 ? 1 : sum - 1;
            }
        }
        return pos;
    }

    /** Rotate-half tables {@code [n, headDim]} each, for the graph's {@code cos} and {@code sin} inputs. */
    public record Rope(float[] cos, float[] sin, int rows, int headDim) {
    }

    /**
     * Tables for positions {@code 0 .. length-1} (the graph inputs for a batch padded to {@code length}).
     * {@code headDim} is {@link QwenDecoderConfig#headDim()}: for Qwen3 the config's explicit {@code head_dim} (128
     * for Qwen3-4B), not {@code hidden_size / num_attention_heads}; {@link QwenDecoderConfig#rope(int)} passes it.
     */
    public static Rope rope(int length, int headDim, double theta) {
        long[] pos = new long[length];
        for (int i = 0; i < length; i++) {
            pos[i] = i;
        }
        return rope(pos, headDim, theta);
    }

    /**
     * Tables for the given positions: row {@code r}, column {@code d} is {@code cos/sin(pos[r]·inv[d mod hd/2])} with
     * {@code inv[j] = 1/theta^(2j/hd)}, following upstream's fp32 computation: {@code inv} rounded to fp32, the angle
     * an fp32 product {@code pos·inv}, cos/sin of that angle rounded to fp32.
     */
    public static Rope rope(long[] positions, int headDim, double theta) {
        if (headDim < 2 || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even, got " + headDim);
        }
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int j = 0; j < half; j++) {
            inv[j] = (float) (1.0 / Math.pow(theta, (2.0 * j) / headDim));
        }
        float[] cos = new float[positions.length * headDim];
        float[] sin = new float[positions.length * headDim];
        for (int r = 0; r < positions.length; r++) {
            for (int j = 0; j < half; j++) {
                float angle = (float) positions[r] * inv[j];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[r * headDim + j] = c;
                cos[r * headDim + half + j] = c;
                sin[r * headDim + j] = s;
                sin[r * headDim + half + j] = s;
            }
        }
        return new Rope(cos, sin, positions.length, headDim);
    }

    // ---- images: splicing and M-RoPE (zimage-edit-spec B4) -------------------------------------------

    /**
     * The rows of the flattened {@code [batch·length]} id array that hold {@code imagePadId}, in order: the graph's
     * {@link QwenTextEncoder#IMAGE_POSITIONS} ({@code masked_scatter} fills them in this order).
     */
    public static long[] imagePositions(long[] inputIds, long imagePadId) {
        return java.util.stream.IntStream.range(0, inputIds.length).filter(i -> inputIds[i] == imagePadId)
                .asLongStream().toArray();
    }

    /**
     * Qwen2.5-VL's 3-axis position ids {@code [3][L]} (t, h, w) of one unpadded sample, as {@code get_rope_index}
     * computes them for images: an image is a {@code visionStartId} directly followed by its run of
     * {@code gh·gw} {@code imagePadId} tokens, {@code mergedGrids[k] = {gh, gw}} in merged-token units
     * ({@code image_grid_thw[k][1:] / spatial_merge_size}). Walking the sequence, a text run (everything up to the
     * next image's first pad, {@code <|vision_start|>} included) of length {@code n} starting at id {@code s} gets
     * {@code s .. s+n-1} on all three axes; the image after it gets {@code (s+n, s+n+r, s+n+c)} for merged row
     * {@code r}, column {@code c}, row-major; the next text run starts at the largest id so far plus 1
     * ({@code <|vision_end|>} gets {@code s + n + max(gh, gw)}).
     *
     * @throws IllegalArgumentException when the ids hold another number of images than {@code mergedGrids}, or an
     *     image's run of pads is not {@code gh·gw} long
     */
    public static long[][] mropePositionIds(long[] inputIds, long imagePadId, long visionStartId, int[]... mergedGrids) {
        int len = inputIds.length;
        int images = 0;
        for (int i = 0; i + 1 < len; i++) {
            images += inputIds[i] == visionStartId && inputIds[i + 1] == imagePadId ? 1 : 0;
        }
        if (images != mergedGrids.length) {
            throw new IllegalArgumentException("the ids hold " + images + " images (<|vision_start|><|image_pad|>), "
                    + "but " + mergedGrids.length + " grids were given");
        }
        long[][] ids = new long[3][len];
        int st = 0;
        long next = 0;
        for (int[] grid : mergedGrids) {
            int ed = st;
            while (inputIds[ed] != imagePadId) {
                ed++;
            }
            next = text(ids, st, ed, next);
            int gh = grid[0];
            int gw = grid[1];
            if (ed + gh * gw > len) {
                throw new IllegalArgumentException("image at " + ed + " needs " + gh * gw + " pads, the ids end first");
            }
            for (int r = 0; r < gh; r++) {
                for (int c = 0; c < gw; c++) {
                    int at = ed + r * gw + c;
                    if (inputIds[at] != imagePadId) {
                        throw new IllegalArgumentException("image at " + ed + " with merged grid " + gh + "x" + gw
                                + " needs " + gh * gw + " consecutive pads; position " + at + " holds " + inputIds[at]);
                    }
                    ids[0][at] = next;
                    ids[1][at] = next + r;
                    ids[2][at] = next + c;
                }
            }
            next += Math.max(gh, gw);
            st = ed + gh * gw;
        }
        text(ids, st, len, next);
        return ids;
    }

    /** Text positions {@code from .. to-1} get {@code start, start+1, ...} on all axes; returns the next start. */
    private static long text(long[][] ids, int from, int to, long start) {
        for (int i = from; i < to; i++) {
            long p = start + i - from;
            ids[0][i] = p;
            ids[1][i] = p;
            ids[2][i] = p;
        }
        return start + to - from;
    }

    /**
     * M-RoPE tables {@code [L, headDim]} (the graph's {@code cos}/{@code sin}) for 3-axis position ids
     * {@code positionIds [3][L]}, as {@code apply_multimodal_rotary_pos_emb} selects them: each axis's rotate-half
     * table as {@link #rope(long[], int, double)} builds it, then the {@code headDim} columns cut into chunks
     * {@code mropeSection ++ mropeSection} ({@code [16,24,24,16,24,24]} for the 7B), chunk {@code i} taken from axis
     * {@code i mod 3}: frequency {@code j < 16} follows t, {@code 16 ≤ j < 40} h, {@code 40 ≤ j < 64} w, in both halves.
     * With three equal axes (text only) this is {@link #rope(long[], int, double)} exactly; an empty section uses axis
     * t throughout.
     */
    public static Rope mropeTables(long[][] positionIds, int headDim, double theta, int[] mropeSection) {
        if (positionIds.length != 3 || positionIds[1].length != positionIds[0].length
                || positionIds[2].length != positionIds[0].length) {
            throw new IllegalArgumentException("M-RoPE position ids must be [3][L]");
        }
        int[] axisOf = new int[headDim];
        if (mropeSection.length > 0) {
            if (2 * java.util.Arrays.stream(mropeSection).sum() != headDim) {
                throw new IllegalArgumentException("2 x sum(mrope_section " + java.util.Arrays.toString(mropeSection)
                        + ") must equal head_dim " + headDim);
            }
            int d = 0;
            for (int chunk = 0; chunk < 2 * mropeSection.length; chunk++) {
                for (int k = 0; k < mropeSection[chunk % mropeSection.length]; k++) {
                    axisOf[d++] = chunk % 3;
                }
            }
        }
        Rope[] axes = new Rope[3];
        for (int a = 0; a < 3; a++) {
            axes[a] = rope(positionIds[a], headDim, theta);
        }
        int rows = positionIds[0].length;
        float[] cos = new float[rows * headDim];
        float[] sin = new float[rows * headDim];
        for (int i = 0; i < rows * headDim; i++) {
            Rope from = axes[axisOf[i % headDim]];
            cos[i] = from.cos()[i];
            sin[i] = from.sin()[i];
        }
        return new Rope(cos, sin, rows, headDim);
    }

    /**
     * The additive bias {@code [batch, 1, length, length]}: 0 where query {@code i} may attend key {@code j}
     * ({@code j <= i} and key {@code j} not padding), -inf elsewhere. A query with no key left (a left-padding
     * position) attends only to itself, so that no softmax row is all -inf (which would give NaN and leak into
     * valid rows through the values); such rows are padding and their outputs are dropped anyway.
     */
    public static float[] attentionBias(long[] mask, int batch, int length) {
        checkMask(mask, batch, length);
        float[] bias = new float[batch * length * length];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < length; i++) {
                int row = (b * length + i) * length;
                boolean any = false;
                for (int j = 0; j < length; j++) {
                    boolean ok = j <= i && mask[b * length + j] != 0;
                    bias[row + j] = ok ? 0f : Float.NEGATIVE_INFINITY;
                    any |= ok;
                }
                if (!any) {
                    bias[row + i] = 0f;
                }
            }
        }
        return bias;
    }

    private static void checkMask(long[] mask, int batch, int length) {
        if (mask.length != (long) batch * length) {
            throw new IllegalArgumentException("attention mask has " + mask.length + " values, expected " + batch
                    + " x " + length);
        }
    }
}
