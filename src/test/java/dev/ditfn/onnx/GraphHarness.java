package dev.ditfn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Test plumbing shared by the ONNX graph tests: stages weights into a safetensors file in a temporary folder,
 * hands out a {@link GraphBuilder} over them, runs the graph on ORT's CPU execution provider and returns outputs
 * as float arrays (fp16 outputs are widened). Also holds the random-data and tolerance-assertion helpers.
 *
 * <p>Usage: {@code h.weight(...)} as often as needed, then {@code h.graph(target)} (writes the file and opens the
 * store once), build, then {@code h.run(inputs)}. Close the harness after the test.
 */
final class GraphHarness implements AutoCloseable {
    /** fp32 graph vs. double-precision reference: absolute + relative tolerance. */
    static final double FP32_TOL = 1e-5;


    private final Path dir;
    private final SafetensorsWriter writer = new SafetensorsWriter();
    private boolean anyWeight;
    private WeightStore store;
    private GraphBuilder graph;

    GraphHarness(Path dir) {
        this.dir = dir;
    }

    /** The process-wide ORT environment (CPU only). */
    static OrtEnvironment env() {
        return runtime().env();
    }

    private static OrtRuntime runtime() {
        return CpuRuntime.shared();
    }

    // ---- weights and graph -----------------------------------------------------------------------------

    /** Stages an fp32 weight. */
    GraphHarness weight(String name, long[] shape, float[] values) {
        return weight(name, DType.FLOAT32, shape, values);
    }

    /** Stages a weight stored as {@code type} (FLOAT32, FLOAT16 or BFLOAT16; the writer converts). */
    GraphHarness weight(String name, DType type, long[] shape, float[] values) {
        if (store != null) {
            throw new IllegalStateException("weights are already written; stage them before graph()");
        }
        writer.add(name, type, shape, values);
        anyWeight = true;
        return this;
    }

    /** Writes the staged weights (once), opens the store and returns a fresh builder for {@code target}. */
    GraphBuilder graph(GraphTarget target) {
        if (store == null) {
            if (!anyWeight) {
                // WeightStore.open refuses an empty folder; a graph need not use this placeholder.
                writer.add("__placeholder", DType.FLOAT32, new long[] {1}, new float[] {0f});
            }
            writer.write(dir.resolve("w.safetensors"));
            store = WeightStore.open(dir);
        }
        graph = new GraphBuilder("t", target, store);
        return graph;
    }

    WeightStore store() {
        return store;
    }

    // ---- running ---------------------------------------------------------------------------------------

    /** A graph input: float values (sent in the graph's activation type) or int64 values. */
    record Input(float[] floats, long[] longs, long[] shape) {
        static Input of(float[] values, long... shape) {
            check(values.length, shape);
            return new Input(values, null, shape);
        }

        static Input ofLongs(long[] values, long... shape) {
            check(values.length, shape);
            return new Input(null, values, shape);
        }

        private static void check(int n, long[] shape) {
            if (n != ReferenceMath.numel(shape)) {
                throw new IllegalArgumentException(n + " values for shape " + Arrays.toString(shape));
            }
        }
    }

    /** One graph output, widened to float (INT64 outputs too: exact for the small values tests use). */
    record Output(float[] values, long[] shape) {
        long[] longs() {
            long[] out = new long[values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (long) values[i];
            }
            return out;
        }
    }

    /** Runs the last built graph on the CPU EP; returns every output by name. */
    Map<String, Output> run(Map<String, Input> inputs) throws OrtException {
        if (graph == null) {
            throw new IllegalStateException("call graph() and build first");
        }
        OrtEnvironment env = env();
        DType act = graph.act();
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try (ModelSession s = runtime().createSession(graph, store)) {
            for (Map.Entry<String, Input> e : inputs.entrySet()) {
                tensors.put(e.getKey(), toTensor(env, e.getValue(), act));
            }
            Map<String, Output> outs = new LinkedHashMap<>();
            try (OrtSession.Result r = s.run(tensors)) {
                for (Map.Entry<String, OnnxValue> e : r) {
                    outs.put(e.getKey(), fromTensor((OnnxTensor) e.getValue()));
                }
            }
            return outs;
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /** Runs the graph and returns its only output, checking the output's shape. */
    float[] runSingle(Map<String, Input> inputs, long... expectedShape) throws OrtException {
        Map<String, Output> outs = run(inputs);
        if (outs.size() != 1) {
            fail("expected one output, got " + outs.keySet());
        }
        Output o = outs.values().iterator().next();
        assertArrayEquals(expectedShape, o.shape(), "output shape");
        return o.values();
    }

    private static OnnxTensor toTensor(OrtEnvironment env, Input in, DType act) throws OrtException {
        if (in.longs() != null) {
            return OnnxTensor.createTensor(env, LongBuffer.wrap(in.longs()), in.shape());
        }
        return switch (act) {
            case FLOAT32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap(in.floats()), in.shape());
            case FLOAT16 -> OnnxTensor.createTensor(env,
                    Fp16Conversions.convertFloatBufferToFp16Buffer(FloatBuffer.wrap(in.floats())), in.shape(),
                    OnnxJavaType.FLOAT16);
            default -> throw new IllegalArgumentException("activation type " + act);
        };
    }

    private static Output fromTensor(OnnxTensor t) {
        long[] shape = t.getInfo().getShape();
        OnnxJavaType type = t.getInfo().type;
        float[] values = new float[(int) ReferenceMath.numel(shape)];
        switch (type) {
            case FLOAT -> t.getFloatBuffer().get(values);
            case FLOAT16 -> {
                ShortBuffer sb = t.getShortBuffer();
                for (int i = 0; i < values.length; i++) {
                    values[i] = Fp16Conversions.fp16ToFloat(sb.get(i));
                }
            }
            case INT64 -> {
                LongBuffer lb = t.getLongBuffer();
                for (int i = 0; i < values.length; i++) {
                    values[i] = lb.get(i);
                }
            }
            default -> throw new IllegalArgumentException("output type " + type);
        }
        return new Output(values, shape);
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
    }

    // ---- data and assertions ---------------------------------------------------------------------------

    /** {@code n} values uniform in {@code [lo, hi)}. */
    static float[] uniform(Random rnd, int n, float lo, float hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return v;
    }

    /** {@code n} standard-normal values. */
    static float[] normal(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /** Values rounded to what {@code type} can hold (identity for FLOAT32). */
    static float[] roundTo(DType type, float[] values) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case FLOAT32 -> out[i];
                case FLOAT16 -> Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(out[i]));
                case BFLOAT16 -> Fp16Conversions.bf16ToFloat(Fp16Conversions.floatToBf16(out[i]));
                default -> throw new IllegalArgumentException(type.toString());
            };
        }
        return out;
    }

    /** Asserts {@code |actual - expected| <= tol + tol·|expected|} elementwise; lists the first mismatches. */
    static void assertClose(double[] expected, float[] actual, double tol, String what) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        List<String> bad = new ArrayList<>();
        int count = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok;
            if (Double.isNaN(e) || Double.isInfinite(e)) {
                ok = Double.compare(e, a) == 0;
            } else {
                double err = Math.abs(a - e);
                worst = Math.max(worst, err);
                ok = err <= tol + tol * Math.abs(e);
            }
            if (!ok) {
                count++;
                if (bad.size() < 8) {
                    bad.add("[" + i + "] expected " + e + " got " + a);
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + expected.length + " values outside tolerance " + tol
                    + " (max abs error " + worst + "): " + String.join(", ", bad));
        }
    }
}
