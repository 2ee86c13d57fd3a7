package dev.ditfn.model.autoencoderkl;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.GraphRunner.onBothTargets;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static dev.ditfn.testing.TestData.roundTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.model.autoencoderkl.AutoencoderKlReference.Img;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.weights.RandomWeights;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Each {@link AutoencoderKlBlocks} block alone, on tiny non-square shapes, against {@link AutoencoderKlReference}, on
 * CPU_FP32 (attention via com.microsoft:MultiHeadAttention) and CANN_FP16 (fp16 activations and weights, standard ops
 * only; run by ORT's CPU provider). The attention and upsampler tests also show that the comparison would catch a
 * dropped attention or a bilinear upsampler: those differ from the reference by far more than the tolerance.
 */
class AutoencoderKlBlocksTest {
    /** fp32 graph vs. double reference on blocks of a few hundred MACs per output. */
    static final double FP32_TOL = 1e-5;
    /**
     * fp16 activations and weights (the reference reads the same fp16 values); intermediates rounded to fp16's
     * 11-bit mantissa on values of order 1-5 through two convs: 1e-2·(1+|ref|) leaves margin, while wrong taps,
     * channels or groups give errors of order 1.
     */
    static final double FP16_TOL = 1e-2;
    private static final int GROUPS = 4;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("diffusion_pytorch_model.safetensors");

    private static double tol(GraphTarget t) {
        return t.activationType() == DType.FLOAT32 ? FP32_TOL : FP16_TOL;
    }

    /** The model's own random draw ({@link AutoencoderKlConfig#writeRandom}) for the tensors {@code shapes} adds. */
    private static Consumer<RandomWeights> weights(Consumer<Map<String, long[]>> shapes) {
        Map<String, long[]> t = new LinkedHashMap<>();
        shapes.accept(t);
        return rnd -> AutoencoderKlConfig.writeRandom(rnd, t);
    }

    private AutoencoderKlReference reference() {
        return new AutoencoderKlReference(r.store(), GROUPS);
    }

    /**
     * Stages {@code fill}'s weights in the target's type, runs {@code block} on random {@code [b, c, h, w]} input and
     * compares with {@code reference} applied to the same input; returns that input for further checks.
     */
    private Img compareBlock(GraphTarget target, long seed, Consumer<RandomWeights> fill, int[] in, int[] out,
            BiFunction<GraphBuilder, Value, Value> block, Function<Img, Img> reference, String what)
            throws Exception {
        r.random(target.activationType(), seed, fill);
        float[] x = roundTo(target.activationType(), normal(new Random(seed), in[0] * in[1] * in[2] * in[3], 1.5));
        GraphBuilder g = r.graph(target);
        g.output(block.apply(g, g.input("x", g.act(), in[0], in[1], in[2], in[3])), "y", g.act(), out[0], out[1],
                out[2], out[3]);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, in[0], in[1], in[2], in[3])), out[0], out[1], out[2],
                out[3]);
        Img input = new Img(d(x), in[0], in[1], in[2], in[3]);
        assertClose(reference.apply(input).v(), got, tol(target), what + " " + target);
        return input;
    }

    /** The largest absolute difference, to show a wrong variant is far outside the tolerance. */
    private static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    // ---- resnet ----------------------------------------------------------------------------------------

    static Stream<Arguments> resnetCases() {
        return onBothTargets(Arguments.of(8, 12), Arguments.of(8, 8), Arguments.of(12, 4));
    }

    @ParameterizedTest(name = "{0} {1}->{2}")
    @MethodSource("resnetCases")
    void resnet(GraphTarget target, int in, int out) throws Exception {
        int b = 2, h = 5, w = 3;
        String p = "res";
        Consumer<RandomWeights> fill = weights(t -> AutoencoderKlConfig.resnet(t, p, in, out));
        compareBlock(target, 11, fill, new int[] {b, in, h, w}, new int[] {b, out, h, w},
                (g, x) -> AutoencoderKlBlocks.resnet(g, x, p, in, out, GROUPS), x -> reference().resnet(x, p),
                "resnet " + in + "->" + out);
    }

    // ---- mid attention ---------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = GraphTarget.class, names = {"CPU_FP32", "CANN_FP16"})
    void midAttention(GraphTarget target) throws Exception {
        int b = 2, c = 8, h = 3, w = 4;
        String p = "attn";
        // the model's draw: to_q/to_k at 1.5/sqrt(c), so the softmax over the 12 pixels is far from uniform
        Consumer<RandomWeights> fill = weights(t -> AutoencoderKlConfig.attention(t, p, c));
        int[] shape = {b, c, h, w};
        Img x = compareBlock(target, 12, fill, shape, shape,
                (g, in) -> AutoencoderKlBlocks.midAttention(g, in, p, c, GROUPS), in -> reference().attention(in, p),
                "mid attention");
        // without the attention the block would be the identity: far outside the tolerance
        double dropped = maxDiff(reference().attention(x, p).v(), x.v());
        assertTrue(dropped > 100 * tol(target), "attention changes the output by " + dropped);
    }

    // ---- upsampler -------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = GraphTarget.class, names = {"CPU_FP32", "CANN_FP16"})
    void upsample(GraphTarget target) throws Exception {
        int b = 1, c = 6, h = 3, w = 4;
        String p = "up";
        Img in = compareBlock(target, 13, weights(t -> AutoencoderKlConfig.conv(t, p + ".conv", c, c, 3)),
                new int[] {b, c, h, w}, new int[] {b, c, 2 * h, 2 * w},
                (g, x) -> AutoencoderKlBlocks.upsample(g, x, p, c), x -> reference().upsample(x, p), "upsampler");
        // a bilinear (half-pixel) upsampler before the same conv gives clearly different values
        double diff = maxDiff(reference().upsample(in, p).v(), reference().upsampleWith(p, bilinear2x(in)).v());
        assertTrue(diff > 100 * tol(target), "bilinear differs by " + diff);
    }

    /** {@code F.interpolate(scale_factor=2, mode="bilinear", align_corners=False)} (a wrong upsampler). */
    static Img bilinear2x(Img x) {
        int oh = 2 * x.h(), ow = 2 * x.w();
        double[] out = new double[x.n() * x.c() * oh * ow];
        for (int nc = 0; nc < x.n() * x.c(); nc++) {
            for (int i = 0; i < oh; i++) {
                double sy = Math.max(0, (i + 0.5) / 2 - 0.5);
                int y0 = (int) sy, y1 = Math.min(y0 + 1, x.h() - 1);
                double fy = sy - y0;
                for (int j = 0; j < ow; j++) {
                    double sx = Math.max(0, (j + 0.5) / 2 - 0.5);
                    int x0 = (int) sx, x1 = Math.min(x0 + 1, x.w() - 1);
                    double fx = sx - x0;
                    int base = nc * x.h() * x.w();
                    double top = x.v()[base + y0 * x.w() + x0] * (1 - fx) + x.v()[base + y0 * x.w() + x1] * fx;
                    double bot = x.v()[base + y1 * x.w() + x0] * (1 - fx) + x.v()[base + y1 * x.w() + x1] * fx;
                    out[(nc * oh + i) * ow + j] = top * (1 - fy) + bot * fy;
                }
            }
        }
        return new Img(out, x.n(), x.c(), oh, ow);
    }

    // ---- downsampler -----------------------------------------------------------------------------------

    static Stream<Arguments> downsampleCases() {
        // even sides halve; odd sides give (H - 2)/2 + 1 after the one-sided pad
        return onBothTargets(Arguments.of(6, 8), Arguments.of(5, 7));
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("downsampleCases")
    void downsample(GraphTarget target, int h, int w) throws Exception {
        int b = 2, c = 4;
        String p = "down";
        int oh = (h - 2) / 2 + 1, ow = (w - 2) / 2 + 1;
        compareBlock(target, 14, weights(t -> AutoencoderKlConfig.conv(t, p + ".conv", c, c, 3)),
                new int[] {b, c, h, w}, new int[] {b, c, oh, ow},
                (g, x) -> AutoencoderKlBlocks.downsample(g, x, p, c), x -> reference().downsample(x, p),
                "downsampler " + h + "x" + w);
    }
}
