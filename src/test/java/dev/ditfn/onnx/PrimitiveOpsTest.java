package dev.ditfn.onnx;

import static dev.ditfn.testing.AssertClose.FP32_TOL;
import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.roundTo;
import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner.Output;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.ReferenceMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;

/** GraphBuilder's primitive ops on CPU_FP32, each compared with {@link ReferenceMath} on seeded random data. */
class PrimitiveOpsTest {
    private static final GraphTarget T = GraphTarget.CPU_FP32;

    @RegisterExtension
    final GraphRunner h = GraphRunner.temporary("w.safetensors");
    private final Random rnd = new Random(42);

    // ---- matrix products ------------------------------------------------------------------------------

    @Test
    void matMul() throws Exception {
        float[] a = uniform(rnd, 3 * 5, -1, 1);
        float[] b = uniform(rnd, 5 * 4, -1, 1);
        GraphBuilder g = h.graph(T);
        g.output(g.matMul(g.input("a", DType.FLOAT32, 3, 5), g.input("b", DType.FLOAT32, 5, 4)), "y",
                DType.FLOAT32, 3, 4);
        float[] y = h.runSingle(g, Map.of("a", Input.of(a, 3, 5), "b", Input.of(b, 5, 4)), 3, 4);
        assertClose(ReferenceMath.matmul(d(a), d(b), 3, 5, 4), y, FP32_TOL, "MatMul");
    }

    @Test
    void gemmTransBWithBiasFromWeights() throws Exception {
        float[] a = uniform(rnd, 3 * 5, -1, 1);
        float[] w = uniform(rnd, 4 * 5, -1, 1);
        float[] c = uniform(rnd, 4, -1, 1);
        h.weight("w", new long[] {4, 5}, w).weight("c", new long[] {4}, c);
        GraphBuilder g = h.graph(T);
        g.output(g.gemm(g.input("a", DType.FLOAT32, 3, 5), g.weight("w", 4, 5), g.weight("c", 4), true), "y",
                DType.FLOAT32, 3, 4);
        float[] y = h.runSingle(g, Map.of("a", Input.of(a, 3, 5)), 3, 4);
        assertClose(ReferenceMath.linear(d(a), d(w), d(c), 3, 5, 4), y, FP32_TOL, "Gemm transB");
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    static Stream<Arguments> unaryOps() {
        return Stream.of(
                unary("Sqrt", GraphBuilder::sqrt, Math::sqrt, 0.01f, 4f),
                unary("Exp", GraphBuilder::exp, Math::exp, -3f, 3f),
                unary("Reciprocal", GraphBuilder::reciprocal, x -> 1 / x, 0.25f, 3f),
                unary("Neg", GraphBuilder::neg, x -> -x, -3f, 3f),
                unary("Tanh", GraphBuilder::tanh, Math::tanh, -3f, 3f),
                unary("Sigmoid", GraphBuilder::sigmoid, ReferenceMath::sigmoid, -6f, 6f),
                unary("Cos", GraphBuilder::cos, Math::cos, -4f, 4f),
                unary("Sin", GraphBuilder::sin, Math::sin, -4f, 4f),
                unary("SiLU", GraphBuilder::silu, ReferenceMath::silu, -6f, 6f),
                unary("GELU(tanh)", GraphBuilder::geluTanh, ReferenceMath::geluTanh, -4f, 4f));
    }

    private static Arguments unary(String name, BiFunction<GraphBuilder, Value, Value> op, DoubleUnaryOperator ref,
            float lo, float hi) {
        return Arguments.of(name, op, ref, lo, hi);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unaryOps")
    void unaryElementwise(String name, BiFunction<GraphBuilder, Value, Value> op, DoubleUnaryOperator ref, float lo,
            float hi) throws Exception {
        float[] x = uniform(rnd, 2 * 3 * 7, lo, hi);
        GraphBuilder g = h.graph(T);
        g.output(op.apply(g, g.input("x", DType.FLOAT32, 2, 3, 7)), "y", DType.FLOAT32, 2, 3, 7);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 2, 3, 7)), 2, 3, 7);
        assertClose(ReferenceMath.map(d(x), ref), y, FP32_TOL, name);
    }

    @FunctionalInterface
    interface BinaryOp {
        Value apply(GraphBuilder g, Value a, Value b);
    }

    static Stream<Arguments> binaryOps() {
        return Stream.of(
                Arguments.of("Add", (BinaryOp) GraphBuilder::add, (DoubleBinaryOperator) Double::sum, -3f, 3f),
                Arguments.of("Sub", (BinaryOp) GraphBuilder::sub, (DoubleBinaryOperator) (a, b) -> a - b, -3f, 3f),
                Arguments.of("Mul", (BinaryOp) GraphBuilder::mul, (DoubleBinaryOperator) (a, b) -> a * b, -3f, 3f),
                // divisor kept away from zero
                Arguments.of("Div", (BinaryOp) GraphBuilder::div, (DoubleBinaryOperator) (a, b) -> a / b, 0.5f, 3f),
                // positive base so every exponent is defined
                Arguments.of("Pow", (BinaryOp) GraphBuilder::pow, (DoubleBinaryOperator) Math::pow, 0.5f, 2f),
                Arguments.of("Max", (BinaryOp) GraphBuilder::max, (DoubleBinaryOperator) Math::max, -3f, 3f));
    }

    /** Same-shape operands, and the second one broadcast from {@code [7]} against {@code [2, 3, 7]}. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryOps")
    void binaryElementwiseWithBroadcast(String name, BinaryOp op, DoubleBinaryOperator ref, float lo, float hi)
            throws Exception {
        float[] a = uniform(rnd, 2 * 3 * 7, lo, hi);
        float[] b = uniform(rnd, 2 * 3 * 7, lo, hi);
        float[] c = uniform(rnd, 7, lo, hi);
        GraphBuilder g = h.graph(T);
        Value va = g.input("a", DType.FLOAT32, 2, 3, 7);
        g.output(op.apply(g, va, g.input("b", DType.FLOAT32, 2, 3, 7)), "same", DType.FLOAT32, 2, 3, 7);
        g.output(op.apply(g, va, g.input("c", DType.FLOAT32, 7)), "bcast", DType.FLOAT32, 2, 3, 7);
        Map<String, Output> out = h.run(g, Map.of("a", Input.of(a, 2, 3, 7), "b", Input.of(b, 2, 3, 7),
                "c", Input.of(c, 7)));
        double[] same = new double[a.length];
        double[] bcast = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            same[i] = ref.applyAsDouble(a[i], b[i]);
            bcast[i] = ref.applyAsDouble(a[i], c[i % 7]);
        }
        assertClose(same, out.get("same").values(), FP32_TOL, name + " same shape");
        assertClose(bcast, out.get("bcast").values(), FP32_TOL, name + " broadcast");
    }

    @Test
    void clip() throws Exception {
        float[] x = uniform(rnd, 4 * 5, -3, 3);
        GraphBuilder g = h.graph(T);
        g.output(g.clip(g.input("x", DType.FLOAT32, 4, 5), -1f, 2f), "y", DType.FLOAT32, 4, 5);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 4, 5)), 4, 5);
        assertClose(ReferenceMath.map(d(x), v -> Math.min(2, Math.max(-1, v))), y, FP32_TOL, "Clip");
    }

    @Test
    void castToFp16AndBackRoundsLikeFp16() throws Exception {
        float[] x = uniform(rnd, 3 * 4, -10, 10);
        GraphBuilder g = h.graph(T);
        Value xi = g.input("x", DType.FLOAT32, 3, 4);
        g.output(g.cast(g.cast(xi, DType.FLOAT16), DType.FLOAT32), "y", DType.FLOAT32, 3, 4);
        g.output(g.cast(xi, DType.INT64), "i", DType.INT64, 3, 4);
        Map<String, Output> out = h.run(g, Map.of("x", Input.of(x, 3, 4)));
        // exact: both sides round to nearest-even fp16
        assertClose(d(roundTo(DType.FLOAT16, x)), out.get("y").values(), 0, "Cast fp32->fp16->fp32");
        long[] trunc = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            trunc[i] = (long) x[i]; // ONNX float->int cast truncates toward zero
        }
        assertArrayEquals(trunc, out.get("i").longs(), "Cast fp32->int64");
    }

    // ---- reductions and softmax ------------------------------------------------------------------------

    @Test
    void softmaxLastAxis() throws Exception {
        float[] x = uniform(rnd, 3 * 7, -4, 4);
        GraphBuilder g = h.graph(T);
        g.output(g.softmax(g.input("x", DType.FLOAT32, 3, 7), -1), "y", DType.FLOAT32, 3, 7);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 3, 7)), 3, 7);
        assertClose(ReferenceMath.softmax(d(x), 3, 7), y, FP32_TOL, "Softmax axis -1");
    }

    @Test
    void softmaxMiddleAxis() throws Exception {
        long[] shape = {2, 5, 3};
        float[] x = uniform(rnd, 30, -4, 4);
        GraphBuilder g = h.graph(T);
        g.output(g.softmax(g.input("x", DType.FLOAT32, 2, 5, 3), 1), "y", DType.FLOAT32, 2, 5, 3);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, shape)), shape);
        // softmax along axis 1 = move it last, softmax, move it back
        double[] moved = ReferenceMath.transpose(d(x), shape, 0, 2, 1);
        double[] expected = ReferenceMath.transpose(ReferenceMath.softmax(moved, 6, 5), new long[] {2, 3, 5}, 0, 2, 1);
        assertClose(expected, y, FP32_TOL, "Softmax axis 1");
    }

    @Test
    void reduceMeanAndSum() throws Exception {
        float[] x = uniform(rnd, 2 * 3 * 4, -2, 2);
        GraphBuilder g = h.graph(T);
        Value xi = g.input("x", DType.FLOAT32, 2, 3, 4);
        g.output(g.reduceMean(xi, -1), "meanLast", DType.FLOAT32, 2, 3, 1);
        g.output(g.reduceSum(xi, 0, 2), "sum02", DType.FLOAT32, 1, 3, 1);
        Map<String, Output> out = h.run(g, Map.of("x", Input.of(x, 2, 3, 4)));
        double[] mean = new double[6];
        double[] sum = new double[3];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    double v = x[(i * 3 + j) * 4 + k];
                    mean[i * 3 + j] += v / 4;
                    sum[j] += v;
                }
            }
        }
        assertArrayEquals(new long[] {2, 3, 1}, out.get("meanLast").shape(), "keepdims");
        assertArrayEquals(new long[] {1, 3, 1}, out.get("sum02").shape(), "keepdims");
        assertClose(mean, out.get("meanLast").values(), FP32_TOL, "ReduceMean -1");
        assertClose(sum, out.get("sum02").values(), FP32_TOL, "ReduceSum 0,2");
    }

    // ---- shape and data movement -----------------------------------------------------------------------

    @Test
    void transposeThenReshape() throws Exception {
        long[] shape = {2, 3, 4};
        float[] x = uniform(rnd, 24, -1, 1);
        GraphBuilder g = h.graph(T);
        Value t = g.transpose(g.input("x", DType.FLOAT32, 2, 3, 4), 2, 0, 1);
        g.output(t, "t", DType.FLOAT32, 4, 2, 3);
        g.output(g.reshape(t, 4, -1), "r", DType.FLOAT32, 4, 6);
        Map<String, Output> out = h.run(g, Map.of("x", Input.of(x, shape)));
        double[] expected = ReferenceMath.transpose(d(x), shape, 2, 0, 1);
        assertArrayEquals(new long[] {4, 2, 3}, out.get("t").shape());
        assertArrayEquals(new long[] {4, 6}, out.get("r").shape());
        assertClose(expected, out.get("t").values(), 0, "Transpose");
        assertClose(expected, out.get("r").values(), 0, "Reshape keeps row-major order");
    }

    @Test
    void reshapeWithZeroCopiesInputDim() throws Exception {
        float[] x = uniform(rnd, 2 * 3 * 4, -1, 1);
        GraphBuilder g = h.graph(T);
        g.output(g.reshape(g.input("x", DType.FLOAT32, 2, 3, 4), 0, 2, -1), "y", DType.FLOAT32, 2, 2, 6);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 2, 3, 4)), 2, 2, 6);
        assertClose(d(x), y, 0, "Reshape(0, 2, -1)");
    }

    @Test
    void concatSplitSlice() throws Exception {
        float[] a = uniform(rnd, 2 * 3, -1, 1);
        float[] b = uniform(rnd, 2 * 2, -1, 1);
        GraphBuilder g = h.graph(T);
        Value cat = g.concat(1, g.input("a", DType.FLOAT32, 2, 3), g.input("b", DType.FLOAT32, 2, 2));
        g.output(cat, "cat", DType.FLOAT32, 2, 5);
        Value[] parts = g.split(cat, 1, 1, 4);
        g.output(parts[0], "p0", DType.FLOAT32, 2, 1);
        g.output(parts[1], "p1", DType.FLOAT32, 2, 4);
        g.output(g.slice(cat, 1, 1, 4), "sl", DType.FLOAT32, 2, 3);
        Map<String, Output> out = h.run(g, Map.of("a", Input.of(a, 2, 3), "b", Input.of(b, 2, 2)));
        double[] cat2 = new double[10];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 5; c++) {
                cat2[r * 5 + c] = c < 3 ? a[r * 3 + c] : b[r * 2 + c - 3];
            }
        }
        assertClose(cat2, out.get("cat").values(), 0, "Concat");
        assertClose(ReferenceMath.columns(cat2, 5, 0, 1), out.get("p0").values(), 0, "Split part 0");
        assertClose(ReferenceMath.columns(cat2, 5, 1, 5), out.get("p1").values(), 0, "Split part 1");
        assertClose(ReferenceMath.columns(cat2, 5, 1, 4), out.get("sl").values(), 0, "Slice [1, 4)");
        assertArrayEquals(new long[] {2, 4}, out.get("p1").shape());
        assertArrayEquals(new long[] {2, 3}, out.get("sl").shape());
    }

    @Test
    void gatherRows() throws Exception {
        float[] data = uniform(rnd, 5 * 3, -1, 1);
        long[] idx = {4, 0, 2, 2};
        GraphBuilder g = h.graph(T);
        g.output(g.gather(g.input("d", DType.FLOAT32, 5, 3), g.input("i", DType.INT64, 2, 2), 0), "y",
                DType.FLOAT32, 2, 2, 3);
        float[] y = h.runSingle(g, Map.of("d", Input.of(data, 5, 3), "i", Input.ofLongs(idx, 2, 2)), 2, 2, 3);
        double[] expected = new double[12];
        for (int n = 0; n < 4; n++) {
            for (int c = 0; c < 3; c++) {
                expected[n * 3 + c] = data[(int) idx[n] * 3 + c];
            }
        }
        assertClose(expected, y, 0, "Gather axis 0");
    }

    @Test
    void gatherColumns() throws Exception {
        float[] data = uniform(rnd, 2 * 4, -1, 1);
        long[] idx = {3, 1};
        GraphBuilder g = h.graph(T);
        g.output(g.gather(g.input("d", DType.FLOAT32, 2, 4), g.input("i", DType.INT64, 2), 1), "y",
                DType.FLOAT32, 2, 2);
        float[] y = h.runSingle(g, Map.of("d", Input.of(data, 2, 4), "i", Input.ofLongs(idx, 2)), 2, 2);
        assertClose(new double[] {data[3], data[1], data[7], data[5]}, y, 0, "Gather axis 1");
    }

    @Test
    void unsqueezeSqueezeExpandShape() throws Exception {
        float[] x = uniform(rnd, 3, -1, 1);
        GraphBuilder g = h.graph(T);
        Value xi = g.input("x", DType.FLOAT32, 3);
        Value u = g.unsqueeze(xi, 0, 2); // [1, 3, 1]
        g.output(u, "u", DType.FLOAT32, 1, 3, 1);
        g.output(g.squeeze(u, 0, 2), "s", DType.FLOAT32, 3);
        Value e = g.expand(u, g.constLongs(2, 3, 4)); // [2, 3, 4]
        g.output(e, "e", DType.FLOAT32, 2, 3, 4);
        g.output(g.shape(e), "shape", DType.INT64, 3);
        Map<String, Output> out = h.run(g, Map.of("x", Input.of(x, 3)));
        assertArrayEquals(new long[] {1, 3, 1}, out.get("u").shape());
        assertArrayEquals(new long[] {3}, out.get("s").shape());
        assertClose(d(x), out.get("u").values(), 0, "Unsqueeze");
        assertClose(d(x), out.get("s").values(), 0, "Squeeze");
        double[] expanded = new double[24];
        for (int i = 0; i < 24; i++) {
            expanded[i] = x[i / 4 % 3];
        }
        assertClose(expanded, out.get("e").values(), 0, "Expand");
        assertArrayEquals(new long[] {2, 3, 4}, out.get("shape").longs(), "Shape");
    }

    @Test
    void padConstantZero() throws Exception {
        long[] shape = {1, 2, 3, 4};
        long[] pads = {0, 0, 1, 2, 0, 0, 2, 1};
        float[] x = uniform(rnd, 24, -1, 1);
        GraphBuilder g = h.graph(T);
        g.output(g.pad(g.input("x", DType.FLOAT32, 1, 2, 3, 4), pads), "y", DType.FLOAT32, 1, 2, 6, 7);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, shape)), 1, 2, 6, 7);
        assertClose(ReferenceMath.pad(d(x), shape, pads), y, 0, "Pad constant");
    }

    @Test
    void upsampleNearestTimesTwo() throws Exception {
        long[] shape = {1, 2, 3, 4};
        float[] x = uniform(rnd, 24, -1, 1);
        GraphBuilder g = h.graph(T);
        g.output(g.upsampleNearest(g.input("x", DType.FLOAT32, 1, 2, 3, 4), 1, 1, 2, 2), "y", DType.FLOAT32,
                1, 2, 6, 8);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, shape)), 1, 2, 6, 8);
        double[] expected = ReferenceMath.upsampleNearest(d(x), shape, 1, 1, 2, 2);
        assertClose(expected, y, 0, "Resize nearest x2");
        // spelled out for one element: output (c=1, i=5, j=3) = input (c=1, 2, 1)
        assertEquals(x[(1 * 3 + 2) * 4 + 1], y[(1 * 6 + 5) * 8 + 3]);
    }

    // ---- convolution -----------------------------------------------------------------------------------

    @Test
    void conv2dStride2Pad1() throws Exception {
        int[] xs = {2, 3, 7, 6};
        int[] ws = {4, 3, 3, 3};
        float[] x = uniform(rnd, 2 * 3 * 7 * 6, -1, 1);
        float[] w = uniform(rnd, 4 * 3 * 3 * 3, -1, 1);
        float[] b = uniform(rnd, 4, -1, 1);
        h.weight("w", new long[] {4, 3, 3, 3}, w).weight("b", new long[] {4}, b);
        GraphBuilder g = h.graph(T);
        Layers l = new Layers(g);
        // out = (7 + 2 - 3) / 2 + 1 = 4, (6 + 2 - 3) / 2 + 1 = 3
        g.output(l.conv2d(g.input("x", DType.FLOAT32, 2, 3, 7, 6), g.weight("w", 4, 3, 3, 3), g.weight("b", 4), 2, 1),
                "y", DType.FLOAT32, 2, 4, 4, 3);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 2, 3, 7, 6)), 2, 4, 4, 3);
        assertClose(ReferenceMath.conv2d(d(x), xs, d(w), ws, d(b), 2, 1), y, FP32_TOL, "Conv2d s2 p1");
    }

    @Test
    void conv2dNoBias() throws Exception {
        int[] xs = {1, 2, 5, 5};
        int[] ws = {3, 2, 3, 3};
        float[] x = uniform(rnd, 50, -1, 1);
        float[] w = uniform(rnd, 54, -1, 1);
        h.weight("w", new long[] {3, 2, 3, 3}, w);
        GraphBuilder g = h.graph(T);
        g.output(new Layers(g).conv2d(g.input("x", DType.FLOAT32, 1, 2, 5, 5), g.weight("w", 3, 2, 3, 3), null, 1, 0),
                "y", DType.FLOAT32, 1, 3, 3, 3);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 1, 2, 5, 5)), 1, 3, 3, 3);
        assertClose(ReferenceMath.conv2d(d(x), xs, d(w), ws, null, 1, 0), y, FP32_TOL, "Conv2d no bias");
    }

    @Test
    void conv3dAsymmetricPadsAndStrides() throws Exception {
        int[] xs = {1, 2, 4, 5, 6};
        int[] ws = {3, 2, 3, 3, 3};
        int[] strides = {1, 2, 2};
        int[] pads = {2, 1, 1, 0, 1, 0}; // causal in time: 2 frames before, none after
        float[] x = uniform(rnd, 2 * 4 * 5 * 6, -1, 1);
        float[] w = uniform(rnd, 3 * 2 * 27, -1, 1);
        float[] b = uniform(rnd, 3, -1, 1);
        h.weight("w", new long[] {3, 2, 3, 3, 3}, w).weight("b", new long[] {3}, b);
        GraphBuilder g = h.graph(T);
        int ot = ReferenceMath.convOut(4, 3, 1, 2, 0);
        int oh = ReferenceMath.convOut(5, 3, 2, 1, 1);
        int ow = ReferenceMath.convOut(6, 3, 2, 1, 0);
        g.output(new Layers(g).conv3d(g.input("x", DType.FLOAT32, 1, 2, 4, 5, 6), g.weight("w", 3, 2, 3, 3, 3),
                g.weight("b", 3), new long[] {1, 2, 2}, new long[] {2, 1, 1, 0, 1, 0}), "y", DType.FLOAT32,
                1, 3, ot, oh, ow);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 1, 2, 4, 5, 6)), 1, 3, ot, oh, ow);
        assertClose(ReferenceMath.conv3d(d(x), xs, d(w), ws, d(b), strides, pads), y, FP32_TOL, "Conv3d");
    }
}
