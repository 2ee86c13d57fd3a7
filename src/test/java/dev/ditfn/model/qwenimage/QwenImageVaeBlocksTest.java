package dev.ditfn.model.qwenimage;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.GraphRunner.onBothTargets;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static dev.ditfn.testing.TestData.roundTo;

import dev.ditfn.model.qwenimage.QwenImageVaeReference.Vol;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.RandomWeights;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Each decoder block ({@link QwenImageVaeBlocks}) alone, on tiny non-square shapes, against
 * {@link QwenImageVaeReference}. Every block runs on CPU_FP32 (attention via com.microsoft:MultiHeadAttention) and
 * CANN_FP16 (fp16 activations and fp16-stored weights, standard ops only; executed by ORT's CPU provider).
 */
class QwenImageVaeBlocksTest {
    /** fp32 graph vs. double reference on blocks of at most a few hundred MACs per output. */
    static final double FP32_TOL = 1e-5;
    /**
     * fp16 graph: inputs and weights are fp16 values (the reference sees the same), intermediates and the output are
     * rounded to fp16's 11-bit mantissa (relative step ~1e-3) on values up to ~5 over two convs; 1e-2·(1+|ref|)
     * leaves margin and still catches wrong math (wrong taps or channel order give errors of order 1).
     */
    static final double FP16_TOL = 1e-2;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("diffusion_pytorch_model.safetensors");

    private static double tol(GraphTarget t) {
        return t.activationType() == DType.FLOAT32 ? FP32_TOL : FP16_TOL;
    }

    private static DType weightType(GraphTarget t) {
        return t.activationType();
    }

    private static float[] input(GraphTarget t, Random rnd, int n, double std) {
        return roundTo(t.activationType(), normal(rnd, n, std));
    }

    private static void causalConv(RandomWeights rnd, String prefix, int in, int out, int k) {
        rnd.gaussian(prefix + ".weight", 1.0 / Math.sqrt(in * k * k), out, in, k, k, k);
        rnd.gaussian(prefix + ".bias", 0.1, out);
    }

    // ---- (a) residual block ----------------------------------------------------------------------------

    static Stream<Arguments> residualCases() {
        return onBothTargets(Arguments.of(4, 6), Arguments.of(5, 5));
    }

    @ParameterizedTest(name = "{0} {1}->{2}")
    @MethodSource("residualCases")
    void residualBlock(GraphTarget target, int in, int out) throws Exception {
        int b = 2, h = 5, w = 3;
        String p = "blk";
        Consumer<RandomWeights> fill = rnd -> {
            rnd.gain(p + ".norm1.gamma", in, 1, 1, 1);
            causalConv(rnd, p + ".conv1", in, out, 3);
            rnd.gain(p + ".norm2.gamma", out, 1, 1, 1);
            causalConv(rnd, p + ".conv2", out, out, 3);
            if (in != out) {
                causalConv(rnd, p + ".conv_shortcut", in, out, 1);
            }
        };
        r.random(weightType(target), 11, fill);
        float[] x = input(target, new Random(3), b * in * h * w, 1.5);
        GraphBuilder g = r.graph(target);
        Value y = QwenImageVaeBlocks.residualBlock(g, g.input("x", g.act(), b, in, h, w), p, in, out);
        g.output(y, "y", g.act(), b, out, h, w);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, b, in, h, w)), b, out, h, w);
        Vol expected = new QwenImageVaeReference(r.store()).residualBlock(new Vol(d(x), b, in, 1, h, w), p, out);
        assertClose(expected.v(), got, tol(target), "residual block " + in + "->" + out + " " + target);
    }

    // ---- (b) attention block ---------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = GraphTarget.class, names = {"CPU_FP32", "CANN_FP16"})
    void attentionBlock(GraphTarget target) throws Exception {
        int b = 2, c = 8, h = 3, w = 4;
        String p = "attn";
        Consumer<RandomWeights> fill = rnd -> {
            rnd.gain(p + ".norm.gamma", c, 1, 1);
            // larger than 1/sqrt(c) so the softmax is far from uniform
            rnd.gaussian(p + ".to_qkv.weight", 0.8, 3 * c, c, 1, 1);
            rnd.gaussian(p + ".to_qkv.bias", 0.1, 3 * c);
            rnd.gaussian(p + ".proj.weight", 1.0 / Math.sqrt(c), c, c, 1, 1);
            rnd.gaussian(p + ".proj.bias", 0.1, c);
        };
        r.random(weightType(target), 12, fill);
        float[] x = input(target, new Random(4), b * c * h * w, 1.0);
        GraphBuilder g = r.graph(target);
        Value y = QwenImageVaeBlocks.attentionBlock(g, g.input("x", g.act(), b, c, h, w), p, c);
        g.output(y, "y", g.act(), b, c, h, w);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, b, c, h, w)), b, c, h, w);
        Vol expected = new QwenImageVaeReference(r.store()).attentionBlock(new Vol(d(x), b, c, 1, h, w), p);
        assertClose(expected.v(), got, tol(target), "attention block " + target);
    }

    // ---- (c) upsample ----------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = GraphTarget.class, names = {"CPU_FP32", "CANN_FP16"})
    void upsample(GraphTarget target) throws Exception {
        int b = 1, c = 6, h = 3, w = 4;
        String p = "up";
        Consumer<RandomWeights> fill = rnd -> {
            rnd.gaussian(p + ".resample.1.weight", 1.0 / Math.sqrt(c * 9), c / 2, c, 3, 3);
            rnd.gaussian(p + ".resample.1.bias", 0.1, c / 2);
        };
        r.random(weightType(target), 13, fill);
        float[] x = input(target, new Random(5), b * c * h * w, 1.0);
        GraphBuilder g = r.graph(target);
        Value y = QwenImageVaeBlocks.upsample(g, g.input("x", g.act(), b, c, h, w), p, c);
        g.output(y, "y", g.act(), b, c / 2, 2 * h, 2 * w);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, b, c, h, w)), b, c / 2, 2 * h, 2 * w);
        Vol expected = new QwenImageVaeReference(r.store()).upsample(new Vol(d(x), b, c, 1, h, w), p);
        assertClose(expected.v(), got, tol(target), "upsample " + target);
    }

    // ---- (d) RMS_norm (channel L2 norm) ----------------------------------------------------------------

    static Stream<Arguments> normCases() {
        return onBothTargets(Arguments.of(false), Arguments.of(true));
    }

    @ParameterizedTest(name = "{0} images={1}")
    @MethodSource("normCases")
    void rmsNorm(GraphTarget target, boolean images) throws Exception {
        int b = 2, c = 5, h = 3, w = 2;
        Consumer<RandomWeights> fill = rnd -> {
            if (images) {
                rnd.gain("n.gamma", c, 1, 1);
            } else {
                rnd.gain("n.gamma", c, 1, 1, 1);
            }
        };
        r.random(weightType(target), 14, fill);
        // magnitudes from 0.03 to 30: the L2 norm (not the mean of squares) must come out scale-free
        float[] x = input(target, new Random(6), b * c * h * w, 1.0);
        for (int i = 0; i < x.length; i++) {
            x[i] *= (float) Math.pow(10, (i % 4) - 1.5);
        }
        x = roundTo(target.activationType(), x);
        // pixel (0, :, 1, 1) all zero: the norm is clamped to 1e-12 and the output is 0, not NaN
        for (int ch = 0; ch < c; ch++) {
            x[((ch) * h + 1) * w + 1] = 0f;
        }
        GraphBuilder g = r.graph(target);
        Value y = QwenImageVaeBlocks.rmsNorm(g, g.input("x", g.act(), b, c, h, w), "n.gamma", c, images);
        g.output(y, "y", g.act(), b, c, h, w);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, b, c, h, w)), b, c, h, w);
        Vol expected = QwenImageVaeReference.rmsNorm(new Vol(d(x), b, c, 1, h, w),
                ReferenceMath.weight(r.store(), "n.gamma"));
        assertClose(expected.v(), got, tol(target), "RMS_norm images=" + images + " " + target);
    }
}
