package dev.ditfn.model.zimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.Tensors;

import java.util.HashMap;
import java.util.Map;

/**
 * One guidance branch's fixed transformer inputs for one request: the padded caption features, both pad masks and
 * the RoPE tables (the image's ids depend on the caption's padded length, so every table is per branch).
 */
final class ZImageConditioning implements AutoCloseable {
    private final Map<String, OnnxTensor> tensors = new HashMap<>();

    /** @param caption {@code [sequence.captionLength(), capFeatDim]} row-major */
    ZImageConditioning(OrtEnvironment env, DType act, ZImageRope rope, ZImageSequence sequence, float[] caption,
            int capFeatDim) throws OrtException {
        ZImageRope.Tables img = rope.tables(sequence.imagePositionIds());
        ZImageRope.Tables txt = rope.tables(sequence.captionPositionIds());
        int nx = sequence.paddedImageTokens();
        int lc = sequence.paddedCaptionTokens();
        try {
            tensors.put(ZImageTransformer.ENCODER_HIDDEN_STATES,
                    Tensors.of(env, act, sequence.padCaption(caption, capFeatDim), 1, lc, capFeatDim));
            tensors.put(ZImageTransformer.CAP_PAD, Tensors.of(env, act, sequence.captionPadMask(), lc, 1));
            tensors.put(ZImageTransformer.X_PAD, Tensors.of(env, act, sequence.imagePadMask(), nx, 1));
            tensors.put(ZImageTransformer.IMG_COS, Tensors.of(env, DType.FLOAT32, img.cos(), img.shape()));
            tensors.put(ZImageTransformer.IMG_SIN, Tensors.of(env, DType.FLOAT32, img.sin(), img.shape()));
            tensors.put(ZImageTransformer.TXT_COS, Tensors.of(env, DType.FLOAT32, txt.cos(), txt.shape()));
            tensors.put(ZImageTransformer.TXT_SIN, Tensors.of(env, DType.FLOAT32, txt.sin(), txt.shape()));
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The transformer's inputs at one step: these tensors plus the patch rows and the timestep. */
    Map<String, OnnxTensor> with(OnnxTensor patches, OnnxTensor timestep) {
        Map<String, OnnxTensor> inputs = new HashMap<>(tensors);
        inputs.put(ZImageTransformer.HIDDEN_STATES, patches);
        inputs.put(ZImageTransformer.TIMESTEP, timestep);
        return inputs;
    }

    @Override
    public void close() {
        tensors.values().forEach(OnnxTensor::close);
    }
}
