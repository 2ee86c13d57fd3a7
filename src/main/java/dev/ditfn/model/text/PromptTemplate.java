package dev.ditfn.model.text;


import java.util.Arrays;

/**
 * A decoder-LM prompt template around a text encoder, as diffusers' Qwen pipelines use one (qwen-image-spec §4.1,
 * §4.4): the chat template with the prompt inserted, tokenizer truncation at {@code tokenizerMaxLength + dropIndex},
 * the first {@code dropIndex} encoded rows (the template's system part) dropped, and the {@code max_sequence_length}
 * cut. Each family (and task) has its own instance.
 *
 * @param template           {@code prompt_template_encode}; {@code {}} is where the prompt goes
 * @param dropIndex          {@code prompt_template_encode_start_idx}: encoded rows dropped from the front
 * @param tokenizerMaxLength {@code tokenizer_max_length}
 */
public record PromptTemplate(String template, int dropIndex, int tokenizerMaxLength) {
    /** Qwen-Image text-to-image ({@code QwenImagePipeline}). */
    public static final PromptTemplate QWEN_IMAGE = new PromptTemplate("<|im_start|>system\nDescribe the image by "
            + "detailing the color, shape, size, texture, quantity, text, spatial relationships of the objects and "
            + "background:<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n", 34, 1024);
    /**
     * Z-Image ({@code ZImagePipeline._encode_prompt}, zimage-edit-spec A4.1): the stock Qwen3 chat template of one user
     * message with {@code add_generation_prompt=True, enable_thinking=True} (no system turn; the empty
     * {@code <think>} block is only emitted when thinking is off), nothing dropped, and the tokenizer's
     * {@code max_length} the pipeline's default {@code max_sequence_length} 512 with truncation. The encoder output
     * is {@code hidden_states[-2]} of {@link Qwen3TextEncoderConfig}; all mask-1 rows are kept.
     */
    public static final PromptTemplate Z_IMAGE = new PromptTemplate(
            "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n", 0, 512);
    /** {@code max_sequence_length} default of the pipelines' {@code __call__}. */
    public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 512;
    /** The largest {@code max_sequence_length} the pipelines accept. */
    public static final int MAX_SEQUENCE_LENGTH_CAP = 1024;

    public PromptTemplate {
        if (!template.contains("{}") || dropIndex < 0 || tokenizerMaxLength < 1) {
            throw new IllegalArgumentException("a prompt template needs a {} slot, dropIndex >= 0, tokenizerMaxLength"
                    + " >= 1");
        }
    }

    /** The tokenizer call's {@code max_length} ({@code tokenizer_max_length + drop index}); longer ids are cut. */
    public int maxTokens() {
        return tokenizerMaxLength + dropIndex;
    }

    /** The template with {@code prompt} inserted (Python's {@code template.format(prompt)}). */
    public String format(String prompt) {
        int at = template.indexOf("{}");
        return template.substring(0, at) + prompt + template.substring(at + 2);
    }

    /**
     * Token ids of the templated prompt, truncated on the right to {@link #maxTokens()}.
     *
     * @throws IllegalArgumentException if the template gives fewer than {@code dropIndex + 1} tokens (nothing
     *     would be left after the drop: the tokenizer does not fit the drop index)
     */
    public long[] templateIds(ByteLevelBpeTokenizer tokenizer, String prompt) {
        long[] ids = tokenizer.encode(format(prompt));
        if (ids.length <= dropIndex) {
            throw new IllegalArgumentException("the prompt template gives " + ids.length
                    + " tokens with this tokenizer; at least " + (dropIndex + 1) + " are needed because the first "
                    + dropIndex + " are dropped");
        }
        return ids.length > maxTokens() ? Arrays.copyOf(ids, maxTokens()) : ids;
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
     * is 1, in order, without the first {@code dropIndex}, cut to {@code maxSequenceLength} rows.
     *
     * @return {@code [n, hiddenSize]} row-major, {@code n = min(valid - dropIndex, maxSequenceLength)}
     */
    public float[] select(float[] hidden, long[] mask, int hiddenSize, int maxSequenceLength) {
        checkMaxSequenceLength(maxSequenceLength);
        return selectRows(hidden, mask, hiddenSize, maxSequenceLength);
    }

    /** {@link #select} without the {@code max_sequence_length} cut (Qwen-Image-Edit keeps every row). */
    public float[] selectAll(float[] hidden, long[] mask, int hiddenSize) {
        return selectRows(hidden, mask, hiddenSize, Integer.MAX_VALUE);
    }

    private float[] selectRows(float[] hidden, long[] mask, int hiddenSize, int maxSequenceLength) {
        int length = mask.length;
        if (hidden.length != (long) length * hiddenSize) {
            throw new IllegalArgumentException("hidden has " + hidden.length + " values, expected " + length + " x "
                    + hiddenSize);
        }
        int valid = 0;
        for (long m : mask) {
            valid += m != 0 ? 1 : 0;
        }
        if (valid <= dropIndex) {
            throw new IllegalArgumentException("sample has " + valid + " valid tokens; more than " + dropIndex
                    + " are needed (the first " + dropIndex + " are the template's and get dropped)");
        }
        int n = Math.min(valid - dropIndex, maxSequenceLength);
        float[] out = new float[n * hiddenSize];
        int seen = 0;
        int row = 0;
        for (int j = 0; j < length && row < n; j++) {
            if (mask[j] == 0) {
                continue;
            }
            if (seen++ >= dropIndex) {
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
    public PromptEmbeds select(float[] hidden, long[] mask, int batch, int seqLen, int hiddenSize,
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
