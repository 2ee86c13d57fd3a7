package dev.ditfn.model.qwenimage;

import dev.ditfn.model.text.ByteLevelBpeTokenizer;

import java.util.Arrays;

/**
 * Qwen-Image's prompt handling around the text encoder (spec §4.1, §4.4): the chat template, the 34 template tokens
 * dropped after encoding, tokenizer truncation at {@code 1024 + 34} and the {@code max_sequence_length} cut.
 */
public final class QwenPromptEncoding {
    /** {@code prompt_template_encode}; {@code {}} is where the prompt goes. */
    public static final String TEMPLATE = "<|im_start|>system\nDescribe the image by detailing the color, shape, size, "
            + "texture, quantity, text, spatial relationships of the objects and background:<|im_end|>\n"
            + "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n";
    /** {@code prompt_template_encode_start_idx}: encoded rows dropped from the front. */
    public static final int DROP_INDEX = 34;
    /** {@code tokenizer_max_length}. */
    public static final int TOKENIZER_MAX_LENGTH = 1024;
    /** The tokenizer call's {@code max_length} ({@code tokenizer_max_length + drop index}); longer ids are cut. */
    public static final int MAX_TOKENS = TOKENIZER_MAX_LENGTH + DROP_INDEX;
    /** {@code max_sequence_length} default of the pipeline's {@code __call__}. */
    public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 512;
    /** The largest {@code max_sequence_length} the pipeline accepts. */
    public static final int MAX_SEQUENCE_LENGTH_CAP = 1024;

    private QwenPromptEncoding() {
    }

    /** The template with {@code prompt} inserted (Python's {@code template.format(prompt)}). */
    public static String format(String prompt) {
        int at = TEMPLATE.indexOf("{}");
        return TEMPLATE.substring(0, at) + prompt + TEMPLATE.substring(at + 2);
    }

    /**
     * Token ids of the templated prompt, truncated on the right to {@link #MAX_TOKENS}.
     *
     * @throws IllegalArgumentException if the template gives fewer than {@code DROP_INDEX + 1} tokens (nothing
     *     would be left after the drop: the tokenizer does not fit the hard-coded drop index)
     */
    public static long[] templateIds(ByteLevelBpeTokenizer tokenizer, String prompt) {
        long[] ids = tokenizer.encode(format(prompt));
        if (ids.length <= DROP_INDEX) {
            throw new IllegalArgumentException("the Qwen-Image prompt template gives " + ids.length
                    + " tokens with this tokenizer; at least " + (DROP_INDEX + 1) + " are needed because the first "
                    + DROP_INDEX + " are dropped");
        }
        return ids.length > MAX_TOKENS ? Arrays.copyOf(ids, MAX_TOKENS) : ids;
    }

    /** Checks {@code 1 <= maxSequenceLength <= 1024}. */
    public static int checkMaxSequenceLength(int maxSequenceLength) {
        if (maxSequenceLength < 1 || maxSequenceLength > MAX_SEQUENCE_LENGTH_CAP) {
            throw new IllegalArgumentException("max_sequence_length must be in 1.." + MAX_SEQUENCE_LENGTH_CAP
                    + ", got " + maxSequenceLength);
        }
        return maxSequenceLength;
    }

    /**
     * One sample's prompt embedding rows: the rows of {@code hidden [length, hiddenSize]} whose {@code mask [length]}
     * is 1, in order, without the first {@link #DROP_INDEX}, cut to {@code maxSequenceLength} rows.
     *
     * @return {@code [n, hiddenSize]} row-major, {@code n = min(valid - 34, maxSequenceLength)}
     */
    public static float[] select(float[] hidden, long[] mask, int hiddenSize, int maxSequenceLength) {
        checkMaxSequenceLength(maxSequenceLength);
        int length = mask.length;
        if (hidden.length != (long) length * hiddenSize) {
            throw new IllegalArgumentException("hidden has " + hidden.length + " values, expected " + length + " x "
                    + hiddenSize);
        }
        int valid = 0;
        for (long m : mask) {
            valid += m != 0 ? 1 : 0;
        }
        if (valid <= DROP_INDEX) {
            throw new IllegalArgumentException("sample has " + valid + " valid tokens; more than " + DROP_INDEX
                    + " are needed (the first " + DROP_INDEX + " are the template's and get dropped)");
        }
        int n = Math.min(valid - DROP_INDEX, maxSequenceLength);
        float[] out = new float[n * hiddenSize];
        int seen = 0;
        int row = 0;
        for (int j = 0; j < length && row < n; j++) {
            if (mask[j] == 0) {
                continue;
            }
            if (seen++ >= DROP_INDEX) {
                System.arraycopy(hidden, j * hiddenSize, out, row++ * hiddenSize, hiddenSize);
            }
        }
        return out;
    }

    /**
     * {@code prompt_embeds [batch, length, hiddenSize]} (zero rows after each sample's own rows) and
     * {@code prompt_embeds_mask [batch, length]} (1 for real rows, trailing 0s).
     */
    public record PromptEmbeds(float[] embeds, long[] mask, int batch, int length, int hiddenSize) {
        /** All mask values 1: the pipeline then passes no mask at all. */
        public boolean maskAllOnes() {
            for (long m : mask) {
                if (m == 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Spec §4.4 for a batch: {@link #select} per sample of {@code hidden [batch, seqLen, hiddenSize]} with
     * {@code mask [batch, seqLen]}, padded with zero rows to the longest sample ({@code L = max n_b}).
     */
    public static PromptEmbeds select(float[] hidden, long[] mask, int batch, int seqLen, int hiddenSize,
            int maxSequenceLength) {
        if (mask.length != (long) batch * seqLen || hidden.length != (long) batch * seqLen * hiddenSize) {
            throw new IllegalArgumentException("hidden/mask sizes " + hidden.length + "/" + mask.length
                    + " do not match batch " + batch + " x " + seqLen + " x " + hiddenSize);
        }
        float[][] rows = new float[batch][];
        int length = 0;
        for (int b = 0; b < batch; b++) {
            rows[b] = select(Arrays.copyOfRange(hidden, b * seqLen * hiddenSize, (b + 1) * seqLen * hiddenSize),
                    Arrays.copyOfRange(mask, b * seqLen, (b + 1) * seqLen), hiddenSize, maxSequenceLength);
            length = Math.max(length, rows[b].length / hiddenSize);
        }
        float[] embeds = new float[batch * length * hiddenSize];
        long[] outMask = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(rows[b], 0, embeds, b * length * hiddenSize, rows[b].length);
            Arrays.fill(outMask, b * length, b * length + rows[b].length / hiddenSize, 1L);
        }
        return new PromptEmbeds(embeds, outMask, batch, length, hiddenSize);
    }
}
