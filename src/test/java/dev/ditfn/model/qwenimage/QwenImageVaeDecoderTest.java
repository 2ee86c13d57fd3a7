package dev.ditfn.model.qwenimage;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static dev.ditfn.testing.TestData.roundTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.model.qwenimage.QwenImageVaeReference.Vol;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.Random;

/** The whole TINY decoder graph against {@link QwenImageVaeReference}, and load-time weight checks. */
class QwenImageVaeDecoderTest {
    /**
     * fp32 graph vs. double reference through 29 convs, an attention and 22 norms: float32 rounding accumulates to
     * ~1.5e-6 (observed); 1e-4·(1+|ref|) is the stated budget.
     */
    static final double FP32_TOL = 1e-4;
    /**
     * fp16 activations and weights through the whole stack (norms in fp32): each layer adds ~1e-3 relative rounding,
     * partly renormalised by the next norm; observed max error 4.7e-4 on outputs in [-1, 1]. 1e-2 leaves margin while
     * structural errors (wrong tap, channel order, missing block) give errors of order 0.1-1.
     */
    static final double FP16_TOL = 1e-2;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("diffusion_pytorch_model.safetensors");

    private final QwenImageVaeConfig tiny = QwenImageVaeConfig.TINY;

    private double[] decodeAndCompare(GraphTarget target, DType weights, int b, int h, int w, double tol)
            throws Exception {
        r.random(weights, 42, tiny::writeRandomWeights);
        int z = tiny.zDim();
        int s = tiny.scaleFactor();
        float[] latents = normal(new Random(9), b * z * h * w);
        float[] zIn = roundTo(target.activationType(), VaePixels.denormalize(latents, new long[] {b, z, h, w}, tiny));
        GraphBuilder g = new QwenImageVaeDecoder(tiny).build(target, r.store());
        assertFalse(g.weightNames().stream().anyMatch(n -> n.contains("time_conv")),
                "time_conv is never used for a single frame");
        float[] image = r.runSingle(g, Map.of(QwenImageVaeDecoder.INPUT, Input.of(zIn, b, z, h, w)), b, 3, h * s,
                w * s);
        Vol expected = new QwenImageVaeReference(r.store()).decode(tiny, new Vol(d(zIn), b, z, 1, h, w));
        assertClose(expected.v(), image, tol, "TINY decoder " + target + " weights " + weights + " z ["
                + b + "," + z + "," + h + "," + w + "]");
        return expected.v();
    }

    /** Most outputs must lie strictly inside (-1, 1), else the clamp would hide errors. */
    private static void assertNotSaturated(double[] image) {
        int inside = 0;
        for (double v : image) {
            if (Math.abs(v) < 0.999) {
                inside++;
            }
        }
        assertTrue(inside > image.length * 0.8, inside + " of " + image.length + " values inside (-1, 1)");
    }

    // ---- (e) whole decoder -----------------------------------------------------------------------------

    @Test
    void tinyDecoderMatchesReference() throws Exception {
        assertEquals(8, tiny.scaleFactor());
        double[] image = decodeAndCompare(GraphTarget.CPU_FP32, DType.FLOAT32, 1, 4, 4, FP32_TOL);
        assertNotSaturated(image);
    }

    @Test
    void batchedNonSquareLatents() throws Exception {
        decodeAndCompare(GraphTarget.CPU_FP32, DType.FLOAT32, 2, 2, 3, FP32_TOL);
    }

    @Test
    void bf16WeightsOnFp32Graph() throws Exception {
        // bf16 tensors are cast in the graph before the time tap is sliced; the reference reads the same bf16 values
        decodeAndCompare(GraphTarget.CPU_FP32, DType.BFLOAT16, 1, 4, 4, FP32_TOL);
    }

    @Test
    void fp16Graph() throws Exception {
        decodeAndCompare(GraphTarget.CANN_FP16, DType.FLOAT16, 1, 4, 4, FP16_TOL);
    }

    // ---- (f) weight checks -----------------------------------------------------------------------------

    /** Stages the TINY decoder tensors, except {@code name} gets {@code shape} (or is left out when null). */
    private void weightsWith(String name, long[] shape) {
        QwenImageVaeTestWeights.stageWith(r, tiny.decoderTensorShapes(), name, shape);
    }

    @Test
    void preSlicedConvWeightIsRejectedNamingTheTensor() {
        String name = "decoder.up_blocks.1.resnets.0.conv1.weight";
        weightsWith(name, new long[] {64, 32, 3, 3});
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new QwenImageVaeDecoder(tiny).build(GraphTarget.CPU_FP32, r.store()));
        String msg = e.getMessage();
        assertTrue(msg.contains(name), msg);
        assertTrue(msg.contains("[64, 32, 3, 3]") && msg.contains("[64, 32, 3, 3, 3]"), "both shapes: " + msg);
        assertTrue(msg.contains("diffusion_pytorch_model.safetensors"), "names the file: " + msg);
    }

    @Test
    void shortcutOfWrongWidthIsRejectedNamingTheTensor() {
        // up_blocks.1.resnets.0 is 32 -> 64 (its input was halved by up_blocks.0's upsampler), not 64 -> 64
        String name = "decoder.up_blocks.1.resnets.0.conv_shortcut.weight";
        weightsWith(name, new long[] {64, 64, 1, 1, 1});
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new QwenImageVaeDecoder(tiny).build(GraphTarget.CPU_FP32, r.store()));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("[64, 32, 1, 1, 1]"), e.getMessage());
    }

    @Test
    void missingTensorIsNamed() {
        String name = "decoder.norm_out.gamma";
        weightsWith(name, null);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new QwenImageVaeDecoder(tiny).build(GraphTarget.CPU_FP32, r.store()));
        assertTrue(e.getMessage().contains(name), e.getMessage());
    }

    @Test
    void graphDeclaresEveryDecoderTensorButTimeConv() {
        r.random(DType.FLOAT32, 1, tiny::writeRandomWeights);
        GraphBuilder g = new QwenImageVaeDecoder(tiny).build(GraphTarget.CPU_FP32, r.store());
        var expected = tiny.decoderTensorShapes().keySet().stream().filter(n -> !n.contains("time_conv"))
                .sorted().toList();
        assertEquals(expected, g.weightNames().stream().sorted().toList());
        assertEquals(List.of(QwenImageVaeDecoder.INPUT), g.inputNames());
    }
}
