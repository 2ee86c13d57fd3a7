package dev.ditfn.model.text;

import java.util.List;

/**
 * Plain-Java inputs of the {@link QwenTextEncoder} graph: padded id batches and attention masks, spec positions,
 * rotate-half RoPE tables and the additive causal + padding bias.
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
