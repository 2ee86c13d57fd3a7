package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Test plumbing for the VAE graphs: writes random weights into a safetensors file, opens them as a
 * {@link WeightStore}, runs a built graph with one float input on ORT's CPU provider and reads weights back as
 * doubles for {@link QwenImageVaeReference}.
 */
final class VaeGraphRunner implements AutoCloseable {

    private final WeightStore store;

    /** Writes the weights {@code fill} produces (stored as {@code type}) into {@code dir} and opens them. */
    VaeGraphRunner(Path dir, DType type, long seed, Consumer<RandomWeights> fill) {
        SafetensorsWriter writer = new SafetensorsWriter();
        fill.accept(new RandomWeights(writer, type, seed));
        writer.write(dir.resolve("diffusion_pytorch_model.safetensors"));
        store = WeightStore.open(dir);
    }

    WeightStore store() {
        return store;
    }

    GraphBuilder graph(GraphTarget target) {
        return new GraphBuilder("t", target, store);
    }

    private static OrtRuntime runtime() {
        return CpuRuntime.shared();
    }

    /** Runs {@code g} with the single input {@code name} and returns its single output, checking its shape. */
    float[] run(GraphBuilder g, String name, float[] values, long[] shape, long... expectedShape) throws Exception {
        OrtEnvironment env = runtime().env();
        try (ModelSession s = runtime().createSession(g, store);
                OnnxTensor in = g.act() == DType.FLOAT32
                        ? OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape)
                        : OnnxTensor.createTensor(env, Fp16Conversions.convertFloatBufferToFp16Buffer(
                                FloatBuffer.wrap(values)), shape, OnnxJavaType.FLOAT16);
                OrtSession.Result r = s.run(Map.of(name, in))) {
            if (r.size() != 1) {
                fail("expected one output, got " + r.size());
            }
            OnnxValue v = r.get(0);
            OnnxTensor t = (OnnxTensor) v;
            assertArrayEquals(expectedShape, t.getInfo().getShape(), "output shape");
            float[] out = new float[(int) t.getInfo().getNumElements()];
            if (t.getInfo().type == OnnxJavaType.FLOAT) {
                t.getFloatBuffer().get(out);
            } else {
                ShortBuffer sb = t.getShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = Fp16Conversions.fp16ToFloat(sb.get(i));
                }
            }
            return out;
        }
    }

    /** A stored weight widened to double (fp32, fp16 and bf16 files). */
    double[] weight(String name) {
        TensorSpec spec = store.spec(name);
        ByteBuffer data = store.data(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[(int) spec.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (spec.type()) {
                case FLOAT32 -> data.getFloat(i * 4);
                case FLOAT16 -> Fp16Conversions.fp16ToFloat(data.getShort(i * 2));
                case BFLOAT16 -> Fp16Conversions.bf16ToFloat(data.getShort(i * 2));
                default -> throw new IllegalArgumentException(name + " has type " + spec.type());
            };
        }
        return out;
    }

    @Override
    public void close() {
        store.close();
    }

    // ---- data and comparison ---------------------------------------------------------------------------

    static float[] normal(Random rnd, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (std * rnd.nextGaussian());
        }
        return v;
    }

    /** Values rounded to fp16 (what an fp16 graph input holds). */
    static float[] toFp16(float[] values) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(out[i]));
        }
        return out;
    }

    static double[] d(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    /**
     * Asserts {@code |actual - expected| <= tol·(1 + |expected|)} elementwise and returns the largest absolute
     * error (printed, so test logs show the observed accuracy).
     */
    static double assertClose(double[] expected, float[] actual, double tol, String what) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        List<String> bad = new ArrayList<>();
        int count = 0;
        double worst = 0;
        double worstRel = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(err)) {
                err = Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, err);
            worstRel = Math.max(worstRel, err / (1 + Math.abs(expected[i])));
            if (!(err <= tol * (1 + Math.abs(expected[i])))) {
                count++;
                if (bad.size() < 8) {
                    bad.add("[" + i + "] expected " + expected[i] + " got " + actual[i]);
                }
            }
        }
        System.out.printf("%s: %d values, max abs error %.3e, max error/(1+|ref|) %.3e, tolerance %.1e%n", what,
                expected.length, worst, worstRel, tol);
        if (count > 0) {
            fail(what + ": " + count + " of " + expected.length + " values outside tolerance " + tol
                    + " (max abs error " + worst + "): " + String.join(", ", bad));
        }
        return worst;
    }
}
