package dev.ditfn.model.text;

import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.config.Device;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.runtime.ExecutionProviders;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Test plumbing: random text-encoder weights on disk, and running a graph on ORT's CPU provider. */
final class QwenTextOrtRunner {
    private static OrtRuntime runtime;

    private QwenTextOrtRunner() {
    }

    static synchronized OrtRuntime runtime() {
        if (runtime == null) {
            OrtEnvironment env = OrtRuntime.environment(0, 1);
            runtime = new OrtRuntime(env, new ExecutionProviders(env, new ExecutionProviders.Settings(Device.cpu, 0,
                    false, Map.of(), Optional.empty(), "CANNExecutionProvider", Map.of())), true);
        }
        return runtime;
    }

    /** Writes random weights of {@code config} (stored as {@code type}) into {@code dir} and opens them. */
    static WeightStore randomWeights(Path dir, QwenTextEncoderConfig config, boolean newLayout, DType type, long seed) {
        SafetensorsWriter w = new SafetensorsWriter();
        config.writeRandomWeights(new RandomWeights(w, type, seed), newLayout);
        w.write(dir.resolve("model.safetensors"));
        return WeightStore.open(dir);
    }

    /** A float input (sent as float32) or an int64 input. */
    record In(float[] floats, long[] longs, long[] shape) {
        static In f(float[] v, long... shape) {
            return new In(v, null, shape);
        }

        static In l(long[] v, long... shape) {
            return new In(null, v, shape);
        }
    }

    /** Runs {@code g} and returns its only output as floats (fp16 widened), checking its shape. */
    static float[] run(GraphBuilder g, WeightStore store, Map<String, In> inputs, long... expectedShape)
            throws OrtException {
        OrtEnvironment env = runtime().env();
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try (ModelSession s = runtime().createSession(g, store)) {
            for (Map.Entry<String, In> e : inputs.entrySet()) {
                In in = e.getValue();
                tensors.put(e.getKey(), in.longs() != null
                        ? OnnxTensor.createTensor(env, LongBuffer.wrap(in.longs()), in.shape())
                        : OnnxTensor.createTensor(env, FloatBuffer.wrap(in.floats()), in.shape()));
            }
            try (OrtSession.Result r = s.run(tensors)) {
                if (r.size() != 1) {
                    fail("expected one output, got " + r.size());
                }
                OnnxTensor t = (OnnxTensor) r.get(0);
                long[] shape = t.getInfo().getShape();
                if (!java.util.Arrays.equals(shape, expectedShape)) {
                    fail("output shape " + java.util.Arrays.toString(shape) + ", expected "
                            + java.util.Arrays.toString(expectedShape));
                }
                float[] out = new float[(int) t.getInfo().getNumElements()];
                if (t.getInfo().type == OnnxJavaType.FLOAT16) {
                    ShortBuffer sb = t.getShortBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = Fp16Conversions.fp16ToFloat(sb.get(i));
                    }
                } else {
                    t.getFloatBuffer().get(out);
                }
                return out;
            }
        } finally {
            tensors.values().forEach(OnnxValue::close);
        }
    }

    /**
     * Over the rows selected by {@code rowMask} (null = all): the largest absolute error, the largest |expected|, and
     * the largest {@code |a - e| / (tol + tol·|e|)} (the share of the tolerance used; ≤ 1 passes).
     */
    record Errors(double maxAbs, double maxExpected, double worstRatio) {
        boolean within() {
            return worstRatio <= 1;
        }

        @Override
        public String toString() {
            return String.format("max abs error %.3e (max |expected| %.3f), %.1f%% of the tolerance used", maxAbs,
                    maxExpected, 100 * worstRatio);
        }
    }

    static Errors compare(double[] expected, float[] actual, int width, long[] rowMask, double tol) {
        if (expected.length != actual.length) {
            fail("expected " + expected.length + " values, got " + actual.length);
        }
        double maxAbs = 0;
        double maxExpected = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (rowMask != null && rowMask[i / width] == 0) {
                continue;
            }
            double err = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(actual[i])) {
                err = Double.POSITIVE_INFINITY;
            }
            maxAbs = Math.max(maxAbs, err);
            maxExpected = Math.max(maxExpected, Math.abs(expected[i]));
            worst = Math.max(worst, err / (tol + tol * Math.abs(expected[i])));
        }
        return new Errors(maxAbs, maxExpected, worst);
    }

    static void assertClose(double[] expected, float[] actual, int width, long[] rowMask, double tol, String what) {
        Errors e = compare(expected, actual, width, rowMask, tol);
        System.out.println("[qwen-te] " + what + ": " + e + " (tolerance " + tol + " abs + " + tol + " rel)");
        if (!e.within()) {
            fail(what + ": outside tolerance " + tol + " abs+rel: " + e);
        }
    }
}
