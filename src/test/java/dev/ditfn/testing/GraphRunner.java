package dev.ditfn.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * How tests run ONNX graphs: weights are staged into one safetensors file, opened as a {@link WeightStore} on first
 * use, and each graph runs in a session of the shared CPU runtime ({@link CpuRuntime}). Float inputs are sent in the
 * element type the graph declares for them (fp32 or fp16); outputs come back widened to float.
 *
 * <p>As a JUnit extension on an instance field, {@code @RegisterExtension final GraphRunner h =
 * GraphRunner.temporary(...)}, each test gets a fresh runner, closed after it.
 */
public final class GraphRunner implements AutoCloseable, AfterEachCallback {
    private final Path dir;
    private final String fileName;
    private final boolean ownsDir;
    private final SafetensorsWriter writer = new SafetensorsWriter();
    private boolean anyWeight;
    private WeightStore store;

    /** Weights go to {@code dir/fileName}. */
    public GraphRunner(Path dir, String fileName) {
        this(dir, fileName, false);
    }

    private GraphRunner(Path dir, String fileName, boolean ownsDir) {
        this.dir = dir;
        this.fileName = fileName;
        this.ownsDir = ownsDir;
    }

    /** Weights go to {@code fileName} in a new temporary folder, deleted on close. */
    public static GraphRunner temporary(String fileName) {
        try {
            return new GraphRunner(Files.createTempDirectory("graph-runner"), fileName, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- weights ---------------------------------------------------------------------------------------

    /** Stages an fp32 weight. */
    public GraphRunner weight(String name, long[] shape, float[] values) {
        return weight(name, DType.FLOAT32, shape, values);
    }

    /** Stages a weight stored as {@code type} (FLOAT32, FLOAT16 or BFLOAT16; the writer converts). */
    public GraphRunner weight(String name, DType type, long[] shape, float[] values) {
        writer().add(name, type, shape, values);
        return this;
    }

    /** Stages the random weights {@code fill} draws, stored as {@code type}. */
    public GraphRunner random(DType type, long seed, Consumer<RandomWeights> fill) {
        fill.accept(new RandomWeights(writer(), type, seed));
        return this;
    }

    private SafetensorsWriter writer() {
        if (store != null) {
            throw new IllegalStateException("weights are already written; stage them before store() or graph()");
        }
        anyWeight = true;
        return writer;
    }

    /** The weight file (written on first use of the store). */
    public Path file() {
        return dir.resolve(fileName);
    }

    /** Writes the staged weights (once) and opens them. */
    public WeightStore store() {
        if (store == null) {
            if (!anyWeight) {
                // WeightStore.open refuses a folder without weights; no graph needs to use this one.
                writer.add("__placeholder", DType.FLOAT32, new long[] {1}, new float[] {0f});
            }
            writer.write(file());
            store = WeightStore.open(dir);
        }
        return store;
    }

    /** A fresh builder for {@code target} over the store. */
    public GraphBuilder graph(GraphTarget target) {
        return new GraphBuilder("t", target, store());
    }

    /**
     * Each case's arguments after a {@link GraphTarget}, once for CPU_FP32 and once for CANN_FP16 (fp16 activations,
     * standard ops; ORT's CPU provider runs both): the two targets the graph tests cover.
     */
    public static Stream<Arguments> onBothTargets(Arguments... cases) {
        return Stream.of(GraphTarget.CPU_FP32, GraphTarget.CANN_FP16).flatMap(t -> Arrays.stream(cases).map(c -> {
            Object[] args = new Object[c.get().length + 1];
            args[0] = t;
            System.arraycopy(c.get(), 0, args, 1, c.get().length);
            return Arguments.of(args);
        }));
    }

    // ---- running ---------------------------------------------------------------------------------------

    /** A graph input: float values (sent in the input's declared type) or int64 values. */
    public record Input(float[] floats, long[] longs, long[] shape) {
        public static Input of(float[] values, long... shape) {
            check(values.length, shape);
            return new Input(values, null, shape);
        }

        public static Input ofLongs(long[] values, long... shape) {
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
    public record Output(float[] values, long[] shape) {
        public long[] longs() {
            long[] out = new long[values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (long) values[i];
            }
            return out;
        }
    }

    /** Runs {@code graph} in a session of its own; every output by name. */
    public Map<String, Output> run(GraphBuilder graph, Map<String, Input> inputs) throws OrtException {
        try (ModelSession s = session(graph)) {
            return run(s, inputs);
        }
    }

    /** A session for {@code graph} over the store, for running one session more than once; the caller closes it. */
    public ModelSession session(GraphBuilder graph) {
        return CpuRuntime.shared().createSession(graph, store());
    }

    /** Runs {@code session}; every output by name. */
    public Map<String, Output> run(ModelSession session, Map<String, Input> inputs) throws OrtException {
        OrtEnvironment env = CpuRuntime.shared().env();
        Map<String, NodeInfo> declared = session.session().getInputInfo();
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Input> e : inputs.entrySet()) {
                NodeInfo info = declared.get(e.getKey());
                if (info == null) {
                    throw new IllegalArgumentException("the graph has no input '" + e.getKey() + "', only "
                            + declared.keySet());
                }
                tensors.put(e.getKey(), tensor(env, e.getValue(), ((TensorInfo) info.getInfo()).type));
            }
            Map<String, Output> outs = new LinkedHashMap<>();
            try (OrtSession.Result r = session.run(tensors)) {
                for (Map.Entry<String, OnnxValue> e : r) {
                    outs.put(e.getKey(), output((OnnxTensor) e.getValue()));
                }
            }
            return outs;
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /** Runs {@code graph} and returns its only output, checking the output's shape. */
    public float[] runSingle(GraphBuilder graph, Map<String, Input> inputs, long... expectedShape)
            throws OrtException {
        Map<String, Output> outs = run(graph, inputs);
        assertEquals(1, outs.size(), "outputs " + outs.keySet());
        Output o = outs.values().iterator().next();
        assertArrayEquals(expectedShape, o.shape(), "output shape");
        return o.values();
    }

    private static OnnxTensor tensor(OrtEnvironment env, Input in, OnnxJavaType declared) throws OrtException {
        if (in.longs() != null) {
            return OnnxTensor.createTensor(env, LongBuffer.wrap(in.longs()), in.shape());
        }
        DType type = switch (declared) {
            case FLOAT -> DType.FLOAT32;
            case FLOAT16 -> DType.FLOAT16;
            case BFLOAT16 -> DType.BFLOAT16;
            default -> throw new IllegalArgumentException("float values for an input of type " + declared);
        };
        return Tensors.of(env, type, in.floats(), in.shape());
    }

    private static Output output(OnnxTensor t) {
        long[] shape = t.getInfo().getShape();
        if (t.getInfo().type != OnnxJavaType.INT64) {
            return new Output(Tensors.floats(t), shape);
        }
        LongBuffer lb = t.getLongBuffer();
        float[] values = new float[lb.remaining()];
        for (int i = 0; i < values.length; i++) {
            values[i] = lb.get(i);
        }
        return new Output(values, shape);
    }

    // ---- lifecycle -------------------------------------------------------------------------------------

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
        if (ownsDir) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
