package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.Tensors;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One guidance branch's conditioning for one request (or both branches' as one batch): prompt embeddings, RoPE tables
 * and, for graphs built with a text mask, the text key bias as ORT tensors, made once and fed to the transformer at
 * every step.
 */
public final class QwenImageConditioning implements AutoCloseable {
    private final Map<String, OnnxTensor> tensors = new HashMap<>();

    /** @param promptEmbeds {@code [textLen, joint_attention_dim]} row-major; the image is {@code h2 × w2} tokens */
    public QwenImageConditioning(OrtEnvironment env, DType act, QwenImageTransformerConfig c, float[] promptEmbeds,
            int textLen, int h2, int w2) throws OrtException {
        this(env, act, c, promptEmbeds, textLen, List.of(new int[] {h2, w2}));
    }

    /**
     * @param grids {@code img_shapes} as {@code (h2, w2)} per image: the noise grid first, then Edit's condition
     *     images, whose tokens follow the noise tokens in the sequence (and are the {@code zero_cond_t} tokens)
     */
    public QwenImageConditioning(OrtEnvironment env, DType act, QwenImageTransformerConfig c, float[] promptEmbeds,
            int textLen, List<int[]> grids) throws OrtException {
        this(env, act, c, promptEmbeds, new int[] {textLen}, textLen, grids, false);
    }

    /** One prompt for graphs built with a text mask: its {@code txt_bias} is all 0. */
    public static QwenImageConditioning masked(OrtEnvironment env, DType act, QwenImageTransformerConfig c,
            float[] promptEmbeds, int textLen, List<int[]> grids) throws OrtException {
        return new QwenImageConditioning(env, act, c, promptEmbeds, new int[] {textLen}, textLen, grids, true);
    }

    /**
     * A batch of prompts ({@code [length_i, joint_attention_dim]} each) for graphs built with a text mask, one batch
     * row each: the embeddings zero-padded at the end to the longest, {@code txt_bias} -inf on the padding. The text
     * RoPE tables cover the longest prompt; a shorter one keeps its positions {@code 0..length-1}.
     */
    public static QwenImageConditioning batch(OrtEnvironment env, DType act, QwenImageTransformerConfig c,
            List<float[]> prompts, int[] lengths, List<int[]> grids) throws OrtException {
        int longest = java.util.Arrays.stream(lengths).max().orElseThrow();
        int width = c.jointAttentionDim();
        float[] padded = new float[prompts.size() * longest * width];
        for (int b = 0; b < prompts.size(); b++) {
            System.arraycopy(prompts.get(b), 0, padded, b * longest * width, lengths[b] * width);
        }
        return new QwenImageConditioning(env, act, c, padded, lengths, longest, grids, true);
    }

    private QwenImageConditioning(OrtEnvironment env, DType act, QwenImageTransformerConfig c, float[] promptEmbeds,
            int[] lengths, int textLen, List<int[]> grids, boolean textMask) throws OrtException {
        QwenRope rope = QwenRope.of(c);
        QwenRope.Tables img = rope.imageTables(grids);
        QwenRope.Tables txt = rope.textTables(textLen, grids);
        int batch = lengths.length;
        try {
            if (c.zeroCondT()) {
                float[] condTokens = new float[img.tokens()];
                java.util.Arrays.fill(condTokens, grids.get(0)[0] * grids.get(0)[1], condTokens.length, 1f);
                tensors.put(QwenImageTransformer.COND_TOKENS, Tensors.of(env, act, condTokens, img.tokens(), 1));
            }
            tensors.put(QwenImageTransformer.ENCODER_HIDDEN_STATES,
                    Tensors.of(env, act, promptEmbeds, batch, textLen, c.jointAttentionDim()));
            tensors.put(QwenImageTransformer.IMG_COS, Tensors.of(env, DType.FLOAT32, img.cos(), img.shape()));
            tensors.put(QwenImageTransformer.IMG_SIN, Tensors.of(env, DType.FLOAT32, img.sin(), img.shape()));
            tensors.put(QwenImageTransformer.TXT_COS, Tensors.of(env, DType.FLOAT32, txt.cos(), txt.shape()));
            tensors.put(QwenImageTransformer.TXT_SIN, Tensors.of(env, DType.FLOAT32, txt.sin(), txt.shape()));
            if (textMask) {
                float[] bias = new float[batch * textLen];
                for (int b = 0; b < batch; b++) {
                    java.util.Arrays.fill(bias, b * textLen + lengths[b], (b + 1) * textLen,
                            Float.NEGATIVE_INFINITY);
                }
                tensors.put(QwenImageTransformer.TXT_BIAS, Tensors.of(env, DType.FLOAT32, bias, batch, 1, 1,
                        textLen));
            }
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The transformer's inputs at one step: these tensors plus the latent tokens and the timestep. */
    public Map<String, OnnxTensor> with(OnnxTensor hiddenStates, OnnxTensor timestep) {
        Map<String, OnnxTensor> inputs = new HashMap<>(tensors);
        inputs.put(QwenImageTransformer.HIDDEN_STATES, hiddenStates);
        inputs.put(QwenImageTransformer.TIMESTEP, timestep);
        return inputs;
    }

    @Override
    public void close() {
        tensors.values().forEach(OnnxTensor::close);
    }
}
