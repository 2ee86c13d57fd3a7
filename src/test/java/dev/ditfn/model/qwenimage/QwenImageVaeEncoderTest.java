package dev.ditfn.model.qwenimage;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.GraphRunner.onBothTargets;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.ReferenceMath.maxAbsDiff;
import static dev.ditfn.testing.TestData.normal;
import static dev.ditfn.testing.TestData.roundTo;
import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.model.qwenimage.QwenImageVaeReference.Vol;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * {@link QwenImageVaeEncoder}: its new blocks alone (downsampler, posterior mean of {@code quant_conv}) and the whole
 * TINY encoder against {@link QwenImageVaeReference}, on CPU_FP32 and CANN_FP16 (fp16 activations and weights,
 * standard ops, run by ORT's CPU provider); wrong-tap and symmetric-pad references shown to be far off; load-time
 * weight checks.
 */
class QwenImageVaeEncoderTest {
    /** Blocks alone: as {@link QwenImageVaeBlocksTest#FP32_TOL}. */
    static final double BLOCK_FP32_TOL = QwenImageVaeBlocksTest.FP32_TOL;
    /** Blocks alone on fp16: as {@link QwenImageVaeBlocksTest#FP16_TOL}. */
    static final double BLOCK_FP16_TOL = QwenImageVaeBlocksTest.FP16_TOL;
    /**
     * fp32 graph vs. double reference through 22 convs, an attention and 17 norms: float32 rounding accumulates to
     * ~1e-6 (observed 1.2e-6 at 32×48, 1.4e-6 at 2×16×24); 1e-4·(1+|ref|) is the budget, as for the decoder.
     */
    static final double FP32_TOL = 1e-4;
    /**
     * fp16 activations and weights through the whole stack (norms in fp32): ~1e-3 relative rounding per layer, partly
     * renormalised by the next norm; observed max error 5.2e-4 at 32×48 on latents up to 1.55. 1e-2·(1+|ref|) leaves
     * margin, as for the decoder; a wrong time tap or pad moves the latents by order 1 (asserted below).
     */
    static final double FP16_TOL = 1e-2;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("diffusion_pytorch_model.safetensors");

    private final QwenImageVaeConfig tiny = QwenImageVaeConfig.TINY;

    private static double blockTol(GraphTarget t) {
        return t.activationType() == DType.FLOAT32 ? BLOCK_FP32_TOL : BLOCK_FP16_TOL;
    }

    // ---- (a) downsampler alone -------------------------------------------------------------------------

    static Stream<Arguments> downsampleCases() {
        // even sides, odd sides (⌊n/2⌋: the last row/column is read only against the zero pad), and 2 (one output)
        return onBothTargets(Arguments.of(6, 8), Arguments.of(5, 7), Arguments.of(2, 3));
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("downsampleCases")
    void downsample(GraphTarget target, int h, int w) throws Exception {
        int b = 2, c = 4;
        String p = "down";
        r.random(target.activationType(), 21, rnd -> {
            rnd.gaussian(p + ".resample.1.weight", 1.0 / Math.sqrt(c * 9), c, c, 3, 3);
            rnd.gaussian(p + ".resample.1.bias", 0.1, c);
        });
        float[] x = roundTo(target.activationType(), normal(new Random(7), b * c * h * w, 1.0));
        int oh = h / 2, ow = w / 2;
        GraphBuilder g = r.graph(target);
        Value y = QwenImageVaeBlocks.downsample(g, g.input("x", g.act(), b, c, h, w), p, c);
        g.output(y, "y", g.act(), b, c, oh, ow);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, b, c, h, w)), b, c, oh, ow);
        Vol in = new Vol(d(x), b, c, 1, h, w);
        QwenImageVaeReference ref = new QwenImageVaeReference(r.store());
        Vol expected = ref.downsample(in, p);
        assertEquals(oh * ow * b * c, expected.v().length);
        assertClose(expected.v(), got, blockTol(target), "downsample " + h + "x" + w + " " + target);
        // a symmetric pad (Conv2d(padding=1)) gives ⌈n/2⌉ on odd sides, and on even sides shifts the sampling grid
        // by one pixel: far outside the tolerance
        Vol wrong = ref.symmetricDownsamplePad().downsample(in, p);
        if (h % 2 == 0 && w % 2 == 0) {
            double diff = maxAbsDiff(expected.v(), wrong.v());
            assertTrue(diff > 0.3, "symmetric pad differs by only " + diff);
        } else {
            assertEquals(List.of((h + 1) / 2, (w + 1) / 2), List.of(wrong.h(), wrong.w()));
        }
    }

    // ---- (b) posterior mean of quant_conv alone ----------------------------------------------------------

    @Test
    void quantConvMeanIsTheFirstHalfOfItsChannels() throws Exception {
        int b = 2, z = 3, h = 2, w = 3;
        String p = "quant_conv";
        r.random(DType.FLOAT32, 22, rnd -> {
            rnd.gaussian(p + ".weight", 0.5, 2 * z, 2 * z, 1, 1, 1);
            rnd.gaussian(p + ".bias", 0.5, 2 * z);
        });
        float[] x = normal(new Random(8), b * 2 * z * h * w);
        GraphBuilder g = r.graph(GraphTarget.CPU_FP32);
        Value y = QwenImageVaeBlocks.causalConv(g, g.input("x", g.act(), b, 2 * z, h, w), p, 2 * z, 2 * z, 1, z);
        g.output(y, "y", g.act(), b, z, h, w);
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, b, 2 * z, h, w)), b, z, h, w);
        QwenImageVaeReference ref = new QwenImageVaeReference(r.store());
        Vol full = ref.causalConv3d(new Vol(d(x), b, 2 * z, 1, h, w), p, 2 * z, 1);
        assertClose(QwenImageVaeReference.posteriorMean(full).v(), got, BLOCK_FP32_TOL, "quant_conv mean");
    }

    // ---- (c) whole encoder -----------------------------------------------------------------------------

    /** The test image: values uniform in [-1, 1), representable in the target's activation type. */
    private static float[] pixels(GraphTarget target, int n) {
        return roundTo(target.activationType(), uniform(new Random(10), n, -1f, 1f));
    }

    /** Runs the TINY encoder on images in [-1, 1] and compares with the reference; returns the reference latents. */
    private Vol encodeAndCompare(GraphTarget target, DType weights, int b, int h, int w, double tol)
            throws Exception {
        r.random(weights, 43, tiny::writeRandomWeights);
        float[] image = pixels(target, b * 3 * h * w);
        GraphBuilder g = new QwenImageVaeEncoder(tiny).build(target, r.store());
        int s = tiny.scaleFactor();
        int z = tiny.zDim();
        float[] mean = r.runSingle(g, Map.of(QwenImageVaeEncoder.INPUT, Input.of(image, b, 3, h, w)), b, z, h / s,
                w / s);
        Vol expected = new QwenImageVaeReference(r.store()).encodeMean(tiny, new Vol(d(image), b, 3, 1, h, w));
        assertEquals(b * z * (h / s) * (w / s), expected.v().length);
        assertClose(expected.v(), mean, tol, "TINY encoder " + target + " weights " + weights + " image [" + b
                + ",3," + h + "," + w + "]");
        return expected;
    }

    @Test
    void tinyEncoderMatchesReferenceAndWrongTapOrPadWouldNot() throws Exception {
        Vol expected = encodeAndCompare(GraphTarget.CPU_FP32, DType.FLOAT32, 1, 32, 48, FP32_TOL);
        Vol image = new Vol(d(pixels(GraphTarget.CPU_FP32, 3 * 32 * 48)), 1, 3, 1, 32, 48);
        QwenImageVaeReference ref = new QwenImageVaeReference(r.store());
        double scale = maxAbsDiff(expected.v(), new double[expected.v().length]);
        assertTrue(scale > 0.5, "latents of order 1, got max |μ| " + scale);
        double firstTap = maxAbsDiff(expected.v(), ref.firstTimeTap().encodeMean(tiny, image).v());
        double symmetric = maxAbsDiff(expected.v(), ref.symmetricDownsamplePad().encodeMean(tiny, image).v());
        // both wrong variants miss by more than 20× the fp16 budget at the largest latent (and 2000× the fp32 one)
        double budget = FP16_TOL * (1 + scale);
        System.out.printf("wrong variants vs. reference: first time tap %.3g, symmetric downsample pad %.3g "
                + "(fp16 budget %.3g)%n", firstTap, symmetric, budget);
        assertTrue(firstTap > 20 * budget, "first time tap differs by only " + firstTap);
        assertTrue(symmetric > 20 * budget, "symmetric pad differs by only " + symmetric);
    }

    @Test
    void batchedSmallerImage() throws Exception {
        encodeAndCompare(GraphTarget.CPU_FP32, DType.FLOAT32, 2, 16, 24, FP32_TOL);
    }

    @Test
    void sidesNotMultiplesOfEightAreFlooredPerStage() throws Exception {
        // 20 -> 10 -> 5 -> 2 and 28 -> 14 -> 7 -> 3, as diffusers' pad + stride-2 conv gives
        r.random(DType.FLOAT32, 43, tiny::writeRandomWeights);
        int h = 20, w = 28;
        float[] image = uniform(new Random(11), 3 * h * w, -1f, 1f);
        GraphBuilder g = new QwenImageVaeEncoder(tiny).build(GraphTarget.CPU_FP32, r.store());
        float[] mean = r.runSingle(g, Map.of(QwenImageVaeEncoder.INPUT, Input.of(image, 1, 3, h, w)), 1, 16, 2, 3);
        Vol expected = new QwenImageVaeReference(r.store()).encodeMean(tiny, new Vol(d(image), 1, 3, 1, h, w));
        assertEquals(16 * 2 * 3, expected.v().length);
        assertClose(expected.v(), mean, FP32_TOL, "TINY encoder 20x28");
    }

    @Test
    void bf16WeightsOnFp32Graph() throws Exception {
        encodeAndCompare(GraphTarget.CPU_FP32, DType.BFLOAT16, 1, 16, 24, FP32_TOL);
    }

    @Test
    void fp16Graph() throws Exception {
        encodeAndCompare(GraphTarget.CANN_FP16, DType.FLOAT16, 1, 32, 48, FP16_TOL);
    }

    // ---- (d) weight checks -----------------------------------------------------------------------------

    /** Stages the TINY encoder tensors, except {@code name} gets {@code shape} (or is left out when null). */
    private void weightsWith(String name, long[] shape) {
        QwenImageVaeTestWeights.stageWith(r, tiny.encoderTensorShapes(), name, shape);
    }

    private RuntimeException buildFails() {
        return assertThrows(RuntimeException.class,
                () -> new QwenImageVaeEncoder(tiny).build(GraphTarget.CPU_FP32, r.store()));
    }

    @Test
    void preSlicedConvWeightIsRejectedNamingTheTensor() {
        String name = "encoder.down_blocks.2.conv1.weight"; // stage 1's residual block, 16 -> 32
        weightsWith(name, new long[] {32, 16, 3, 3});
        String msg = buildFails().getMessage();
        assertTrue(msg.contains(name), msg);
        assertTrue(msg.contains("[32, 16, 3, 3]") && msg.contains("[32, 16, 3, 3, 3]"), "both shapes: " + msg);
        assertTrue(msg.contains("diffusion_pytorch_model.safetensors"), "names the file: " + msg);
    }

    @Test
    void quantConvHoldingOnlyTheMeanRowsIsRejected() {
        // the stored quant_conv maps 2·z_dim -> 2·z_dim; the graph slices the mean rows itself
        weightsWith("quant_conv.weight", new long[] {16, 32, 1, 1, 1});
        String msg = buildFails().getMessage();
        assertTrue(msg.contains("quant_conv.weight") && msg.contains("[32, 32, 1, 1, 1]"), msg);
    }

    @Test
    void downsamplerOfWrongWidthIsRejected() {
        String name = "encoder.down_blocks.3.resample.1.weight"; // downsample3d after stage 1: 32 channels
        weightsWith(name, new long[] {16, 16, 3, 3});
        String msg = buildFails().getMessage();
        assertTrue(msg.contains(name) && msg.contains("[32, 32, 3, 3]"), msg);
    }

    @Test
    void missingTensorIsNamed() {
        weightsWith("encoder.mid_block.attentions.0.to_qkv.bias", null);
        assertTrue(buildFails().getMessage().contains("encoder.mid_block.attentions.0.to_qkv.bias"));
    }

    @Test
    void graphDeclaresEveryEncoderTensorButTimeConv() {
        r.random(DType.FLOAT32, 1, tiny::writeRandomWeights);
        GraphBuilder g = new QwenImageVaeEncoder(tiny).build(GraphTarget.CPU_FP32, r.store());
        List<String> expected = tiny.encoderTensorShapes().keySet().stream().filter(n -> !n.contains("time_conv"))
                .sorted().toList();
        assertEquals(expected, g.weightNames().stream().sorted().toList());
        assertEquals(List.of(QwenImageVaeEncoder.INPUT), g.inputNames());
        assertTrue(tiny.encoderTensorShapes().keySet().stream().anyMatch(n -> n.contains("time_conv")),
                "the snapshot layout has time_conv tensors to leave out");
    }

    @Test
    void attentionInDownBlocksIsRejectedAsUpstreamCannotRunIt() {
        QwenImageVaeConfig withAttn = new QwenImageVaeConfig(16, 16, new int[] {1, 2, 4, 4}, 1, new double[] {0.5},
                new boolean[] {false, true, true}, tiny.latentsMean(), tiny.latentsStd());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QwenImageVaeEncoder(withAttn));
        assertTrue(e.getMessage().contains("attn_scales"), e.getMessage());
    }
}
