package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;

import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Test plumbing for the Qwen-Image DiT graphs: a model with deterministic random fp32 weights in a temporary folder,
 * graph building per segment, and running on ORT's CPU provider with float inputs and outputs (fp16 widened).
 * Also the error-measuring assertion the tests share.
 */
final class QwenTestModel implements AutoCloseable {

    final QwenImageTransformerConfig config;
    final WeightStore store;
    final QwenImageTransformer transformer;

    QwenTestModel(Path dir, QwenImageTransformerConfig config, long seed) {
        this(dir, config, seed, config::writeRandomWeights);
    }

    /** A model whose weights {@code writer} draws: e.g. only the tensors one segment needs. */
    QwenTestModel(Path dir, QwenImageTransformerConfig config, long seed, Consumer<RandomWeights> writer) {
        this.config = config;
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        writer.accept(new RandomWeights(out, DType.FLOAT32, seed));
        out.write(dir.resolve("diffusion_pytorch_model.safetensors"));
        this.store = WeightStore.open(dir);
        this.transformer = new QwenImageTransformer(config);
    }

    static OrtRuntime runtime() {
        return CpuRuntime.shared();
    }

    /** A float tensor (sent as fp32, or as the graph's activation type when {@code activation}). */
    record Tensor(float[] values, long[] shape, boolean activation) {
        static Tensor act(float[] values, long... shape) {
            return new Tensor(values, shape, true);
        }

        static Tensor f32(float[] values, long... shape) {
            return new Tensor(values, shape, false);
        }
    }

    GraphBuilder build(GraphTarget target, TransformerSegment segment) {
        return transformer.build(target, store, segment);
    }

    /** Runs {@code graph}; every output widened to float, by name. */
    Map<String, float[]> run(GraphBuilder graph, Map<String, Tensor> inputs) throws OrtException {
        OrtEnvironment env = runtime().env();
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try (ModelSession s = runtime().createSession(graph, store)) {
            for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
                Tensor t = e.getValue();
                DType type = t.activation() ? graph.act() : DType.FLOAT32;
                tensors.put(e.getKey(), switch (type) {
                    case FLOAT32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap(t.values()), t.shape());
                    case FLOAT16 -> OnnxTensor.createTensor(env,
                            Fp16Conversions.convertFloatBufferToFp16Buffer(FloatBuffer.wrap(t.values())), t.shape(),
                            OnnxJavaType.FLOAT16);
                    default -> throw new IllegalArgumentException(type.toString());
                });
            }
            Map<String, float[]> outs = new LinkedHashMap<>();
            try (OrtSession.Result r = s.run(tensors)) {
                for (Map.Entry<String, OnnxValue> e : r) {
                    outs.put(e.getKey(), floats((OnnxTensor) e.getValue()));
                }
            }
            return outs;
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    private static float[] floats(OnnxTensor t) {
        long n = 1;
        for (long d : t.getInfo().getShape()) {
            n *= d;
        }
        float[] v = new float[(int) n];
        switch (t.getInfo().type) {
            case FLOAT -> t.getFloatBuffer().get(v);
            case FLOAT16 -> {
                ShortBuffer sb = t.getShortBuffer();
                for (int i = 0; i < v.length; i++) {
                    v[i] = Fp16Conversions.fp16ToFloat(sb.get(i));
                }
            }
            default -> throw new IllegalArgumentException("output type " + t.getInfo().type);
        }
        return v;
    }

    /** The four RoPE table inputs for an {@code h2 × w2} grid and {@code textLen} text tokens. */
    Map<String, Tensor> ropeInputs(int h2, int w2, int textLen) {
        QwenRope rope = QwenRope.of(config);
        QwenRope.Tables img = rope.imageTables(h2, w2);
        QwenRope.Tables txt = rope.textTables(textLen, h2, w2);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(QwenImageTransformer.IMG_COS, Tensor.f32(img.cos(), img.shape()));
        m.put(QwenImageTransformer.IMG_SIN, Tensor.f32(img.sin(), img.shape()));
        m.put(QwenImageTransformer.TXT_COS, Tensor.f32(txt.cos(), txt.shape()));
        m.put(QwenImageTransformer.TXT_SIN, Tensor.f32(txt.sin(), txt.shape()));
        return m;
    }

    @Override
    public void close() {
        store.close();
    }

    // ---- data and assertions ---------------------------------------------------------------------------

    static float[] normal(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    static double[] d(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    static float[] f(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) x[i];
        }
        return out;
    }

    /**
     * Asserts {@code |actual − expected| ≤ tol·(1 + |expected|)} elementwise, prints the largest absolute and
     * relative errors (the numbers the test report quotes) and returns the largest absolute error.
     */
    static double assertClose(double[] expected, float[] actual, double tol, String what) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        double worstAbs = 0;
        double worstScaled = 0;
        double maxRef = 0;
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= tol * (1 + Math.abs(expected[i])))) {
                if (bad++ < 6) {
                    first.append(" [").append(i).append("] expected ").append(expected[i]).append(" got ")
                            .append(actual[i]);
                }
            }
            worstAbs = Math.max(worstAbs, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
            worstScaled = Math.max(worstScaled, err / (1 + Math.abs(expected[i])));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        System.out.printf("[qwen-image] %-60s max|err| %.3e  max|err|/(1+|ref|) %.3e  max|ref| %.3g  tol %.0e%n",
                what, worstAbs, worstScaled, maxRef, tol);
        if (bad > 0) {
            fail(what + ": " + bad + " of " + expected.length + " values outside tol " + tol + " (max abs error "
                    + worstAbs + "):" + first);
        }
        return worstAbs;
    }

    static double assertClose(float[] expected, float[] actual, double tol, String what) {
        return assertClose(d(expected), actual, tol, what);
    }
}
