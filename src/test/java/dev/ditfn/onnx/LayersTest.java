package dev.ditfn.onnx;

import static dev.ditfn.testing.AssertClose.FP32_TOL;
import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.GraphRunner.onBothTargets;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.roundTo;
import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.ReferenceMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The composites in {@link Layers}, compared with {@link ReferenceMath}. Each runs on CPU_FP32 and on
 * CANN_FP16 (fp16 activations, standard ops only; executed here by ORT's CPU provider). Attention on
 * CPU_FP32 goes through com.microsoft:MultiHeadAttention, on CANN_FP16 through MatMul/Softmax/MatMul.
 */
class LayersTest {
    /**
     * fp16 graphs: inputs and weights are rounded to fp16 before the reference sees them, but intermediates
     * (products, partial sums, the output) are rounded to fp16's 11-bit mantissa (relative step ~1e-3) on
     * values of magnitude up to ~3, so errors of a few 1e-3 are expected (the largest observed on these seeds is
     * 1.8e-3, in linear); 5e-3 absolute+relative leaves margin while still catching wrong math.
     */
    static final double FP16_TOL = 5e-3;

    @RegisterExtension
    final GraphRunner h = GraphRunner.temporary("w.safetensors");
    private final Random rnd = new Random(7);

    private static double tol(GraphTarget t) {
        return t.activationType() == DType.FLOAT32 ? FP32_TOL : FP16_TOL;
    }

    /** Random values already representable in the target's activation type, so the reference sees what ORT sees. */
    private static float[] data(Random rnd, GraphTarget t, int n, float lo, float hi) {
        return roundTo(t.activationType(), uniform(rnd, n, lo, hi));
    }

    // ---- linear ----------------------------------------------------------------------------------------

    static Stream<Arguments> targetsWithAndWithoutBias() {
        return onBothTargets(Arguments.of(true), Arguments.of(false));
    }

    @ParameterizedTest(name = "{0} bias={1}")
    @MethodSource("targetsWithAndWithoutBias")
    void linearWeightStoredOutIn(GraphTarget t, boolean withBias) throws Exception {
        float[] x = data(rnd, t, 2 * 3 * 5, -1, 1);
        float[] w = data(rnd, t, 4 * 5, -1, 1);
        float[] b = data(rnd, t, 4, -1, 1);
        h.weight("lin.weight", new long[] {4, 5}, w).weight("lin.bias", new long[] {4}, b);
        GraphBuilder g = h.graph(t);
        Value y = new Layers(g).linear(g.input("x", g.act(), 2, 3, 5), g.weight("lin.weight", 4, 5),
                withBias ? g.weight("lin.bias", 4) : null);
        g.output(y, "y", g.act(), 2, 3, 4);
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, 2, 3, 5)), 2, 3, 4);
        assertClose(ReferenceMath.linear(d(x), d(w), withBias ? d(b) : null, 6, 5, 4), out, tol(t), "linear");
    }

    // ---- norms -----------------------------------------------------------------------------------------

    static Stream<Arguments> targetsWithAndWithoutAffine() {
        return targetsWithAndWithoutBias();
    }

    @ParameterizedTest(name = "{0} weight={1}")
    @MethodSource("targetsWithAndWithoutAffine")
    void rmsNorm(GraphTarget t, boolean withWeight) throws Exception {
        float eps = 1e-6f;
        float[] x = data(rnd, t, 2 * 3 * 8, -2, 2);
        float[] w = data(rnd, t, 8, 0.5f, 1.5f);
        h.weight("norm.weight", new long[] {8}, w);
        GraphBuilder g = h.graph(t);
        Value y = new Layers(g).rmsNorm(g.input("x", g.act(), 2, 3, 8), withWeight ? g.weight("norm.weight", 8) : null,
                eps);
        g.output(y, "y", g.act(), 2, 3, 8);
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, 2, 3, 8)), 2, 3, 8);
        assertClose(ReferenceMath.rmsNorm(d(x), 6, 8, withWeight ? d(w) : null, eps), out, tol(t), "rmsNorm");
    }

    @ParameterizedTest(name = "{0} affine={1}")
    @MethodSource("targetsWithAndWithoutAffine")
    void layerNorm(GraphTarget t, boolean affine) throws Exception {
        float eps = 1e-6f;
        float[] x = data(rnd, t, 2 * 3 * 8, -2, 2);
        float[] s = data(rnd, t, 8, 0.5f, 1.5f);
        float[] b = data(rnd, t, 8, -0.5f, 0.5f);
        h.weight("ln.weight", new long[] {8}, s).weight("ln.bias", new long[] {8}, b);
        GraphBuilder g = h.graph(t);
        Value y = new Layers(g).layerNorm(g.input("x", g.act(), 2, 3, 8), 8, affine ? g.weight("ln.weight", 8) : null,
                affine ? g.weight("ln.bias", 8) : null, eps);
        g.output(y, "y", g.act(), 2, 3, 8);
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, 2, 3, 8)), 2, 3, 8);
        assertClose(ReferenceMath.layerNorm(d(x), 6, 8, affine ? d(s) : null, affine ? d(b) : null, eps), out, tol(t),
                "layerNorm");
    }

    @ParameterizedTest(name = "{0} affine={1}")
    @MethodSource("targetsWithAndWithoutAffine")
    void groupNorm2d(GraphTarget t, boolean affine) throws Exception {
        float eps = 1e-5f;
        int batch = 2, channels = 6, groups = 3, hh = 3, ww = 4;
        float[] x = data(rnd, t, batch * channels * hh * ww, -2, 3);
        float[] s = data(rnd, t, channels, 0.5f, 1.5f);
        float[] b = data(rnd, t, channels, -0.5f, 0.5f);
        h.weight("gn.weight", new long[] {channels}, s).weight("gn.bias", new long[] {channels}, b);
        GraphBuilder g = h.graph(t);
        Value y = new Layers(g).groupNorm(g.input("x", g.act(), batch, channels, hh, ww), channels, groups,
                affine ? g.weight("gn.weight", channels) : null, affine ? g.weight("gn.bias", channels) : null, eps, 2);
        g.output(y, "y", g.act(), batch, channels, hh, ww);
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, batch, channels, hh, ww)), batch, channels, hh, ww);
        assertClose(ReferenceMath.groupNorm(d(x), batch, channels, hh * ww, groups, affine ? d(s) : null,
                affine ? d(b) : null, eps), out, tol(t), "groupNorm");
    }

    // ---- attention -------------------------------------------------------------------------------------

    /** How the additive attention bias is made. */
    enum Mask {
        NONE, NEG_INF_KEYS, NEG_1E9_KEYS, RANDOM_PER_HEAD_WITH_NEG_INF
    }

    static Stream<Arguments> attentionCases() {
        return onBothTargets(
                Arguments.of(2, 2, Mask.NONE),
                Arguments.of(4, 2, Mask.NONE),
                Arguments.of(4, 1, Mask.NONE),
                Arguments.of(2, 2, Mask.NEG_INF_KEYS),
                Arguments.of(4, 2, Mask.NEG_INF_KEYS),
                Arguments.of(2, 2, Mask.NEG_1E9_KEYS),
                Arguments.of(4, 2, Mask.NEG_1E9_KEYS),
                Arguments.of(4, 2, Mask.RANDOM_PER_HEAD_WITH_NEG_INF));
    }

    @ParameterizedTest(name = "{0} heads={1} kvHeads={2} mask={3}")
    @MethodSource("attentionCases")
    void attention(GraphTarget t, int heads, int kvHeads, Mask mask) throws Exception {
        int batch = 2, sq = 3, sk = 5, hd = 4;
        float[] q = data(rnd, t, batch * sq * heads * hd, -1.5f, 1.5f);
        float[] k = data(rnd, t, batch * sk * kvHeads * hd, -1.5f, 1.5f);
        float[] v = data(rnd, t, batch * sk * kvHeads * hd, -1, 1);
        GraphBuilder g = h.graph(t);
        Value qi = g.input("q", g.act(), batch, sq, heads * hd);
        Value ki = g.input("k", g.act(), batch, sk, kvHeads * hd);
        Value vi = g.input("v", g.act(), batch, sk, kvHeads * hd);
        Map<String, Input> inputs = new HashMap<>(Map.of("q", Input.of(q, batch, sq, heads * hd),
                "k", Input.of(k, batch, sk, kvHeads * hd), "v", Input.of(v, batch, sk, kvHeads * hd)));
        float[] bias = null;
        int[] biasShape = null;
        Value bi = null;
        if (mask != Mask.NONE) {
            boolean perHead = mask == Mask.RANDOM_PER_HEAD_WITH_NEG_INF;
            biasShape = perHead ? new int[] {batch, heads, sq, sk} : new int[] {1, 1, sq, sk};
            float masked = mask == Mask.NEG_1E9_KEYS ? -1e9f : Float.NEGATIVE_INFINITY;
            bias = perHead ? data(rnd, t, batch * heads * sq * sk, -1, 1) : new float[sq * sk];
            // mask keys 1 and 3 for every query row, and key 4 for query row 0; keys 0 and 2 stay visible
            for (int i = 0; i < bias.length; i++) {
                int key = i % sk;
                int row = i / sk % sq;
                if (key == 1 || key == 3 || (key == 4 && row == 0)) {
                    bias[i] = masked;
                }
            }
            bi = g.input("bias", g.act(), biasShape[0], biasShape[1], sq, sk);
            inputs.put("bias", Input.of(bias, biasShape[0], biasShape[1], sq, sk));
        }
        g.output(new Layers(g).attention(qi, ki, vi, heads, kvHeads, hd, bi), "y", g.act(), batch, sq, heads * hd);
        float[] out = h.runSingle(g, inputs, batch, sq, heads * hd);
        // -1e9 becomes -inf in fp16; either way the masked keys get probability 0
        double[] expected = ReferenceMath.attention(d(q), d(k), d(v), batch, sq, sk, heads, kvHeads, hd,
                bias == null ? null : d(bias), biasShape);
        assertClose(expected, out, tol(t), "attention " + t + " " + heads + "/" + kvHeads + " " + mask);
    }

    @Test
    void attentionRejectsHeadsNotDivisibleByKvHeads() {
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        Value x = g.input("x", DType.FLOAT32, 1, 2, 12);
        assertThrows(IllegalArgumentException.class, () -> new Layers(g).attention(x, x, x, 3, 2, 4, null));
    }

    @ParameterizedTest
    @EnumSource(value = GraphTarget.class, names = {"CPU_FP32", "CANN_FP16"})
    void conv2dInTargetPrecision(GraphTarget t) throws Exception {
        int[] xs = {1, 3, 6, 6};
        int[] ws = {2, 3, 3, 3};
        float[] x = data(rnd, t, 3 * 36, -1, 1);
        float[] w = data(rnd, t, 2 * 27, -0.5f, 0.5f);
        float[] b = data(rnd, t, 2, -1, 1);
        h.weight("w", new long[] {2, 3, 3, 3}, w).weight("b", new long[] {2}, b);
        GraphBuilder g = h.graph(t);
        g.output(new Layers(g).conv2d(g.input("x", g.act(), 1, 3, 6, 6), g.weight("w", 2, 3, 3, 3), g.weight("b", 2), 2,
                1), "y", g.act(), 1, 2, 3, 3);
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, 1, 3, 6, 6)), 1, 2, 3, 3);
        assertClose(ReferenceMath.conv2d(d(x), xs, d(w), ws, d(b), 2, 1), out, tol(t), "conv2d " + t);
    }
}
