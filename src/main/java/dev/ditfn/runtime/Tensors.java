package dev.ditfn.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.DType;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/** Host tensors in and out of sessions: Java float arrays converted to a graph's element type and back. */
public final class Tensors {
    private Tensors() {
    }

    /** A tensor of {@code type} (fp32 or fp16) holding {@code data}. The caller closes it. */
    public static OnnxTensor of(OrtEnvironment env, DType type, float[] data, long... shape) throws OrtException {
        checkCount(data.length, shape);
        FloatBuffer values = FloatBuffer.wrap(data);
        return switch (type) {
            case FLOAT32 -> OnnxTensor.createTensor(env, values, shape);
            case FLOAT16 -> OnnxTensor.createTensor(env, Fp16Conversions.convertFloatBufferToFp16Buffer(values), shape,
                    OnnxJavaType.FLOAT16);
            case BFLOAT16 -> OnnxTensor.createTensor(env, Fp16Conversions.convertFloatBufferToBf16Buffer(values), shape,
                    OnnxJavaType.BFLOAT16);
            default -> throw new IllegalArgumentException("not a float type: " + type);
        };
    }

    public static OnnxTensor longs(OrtEnvironment env, long[] data, long... shape) throws OrtException {
        checkCount(data.length, shape);
        return OnnxTensor.createTensor(env, LongBuffer.wrap(data), shape);
    }

    /** A float tensor's values (fp16/bf16 widened) as a new array. */
    public static float[] floats(OnnxValue value) {
        FloatBuffer buf = ((OnnxTensor) value).getFloatBuffer();
        if (buf == null) {
            throw new IllegalArgumentException("tensor " + value.getInfo() + " is not a float tensor");
        }
        float[] out = new float[buf.remaining()];
        buf.get(out);
        return out;
    }

    private static void checkCount(int count, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != count) {
            throw new IllegalArgumentException(count + " values do not fill shape " + java.util.Arrays.toString(shape));
        }
    }
}
