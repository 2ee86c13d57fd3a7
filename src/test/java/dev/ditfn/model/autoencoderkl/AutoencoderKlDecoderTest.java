package dev.ditfn.model.autoencoderkl;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static dev.ditfn.testing.TestData.roundTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.autoencoderkl.AutoencoderKlReference.Img;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** The whole TINY {@link AutoencoderKlDecoder} graph against {@link AutoencoderKlReference}, and weight checks. */
class AutoencoderKlDecoderTest {
    /**
     * fp32 graph vs. double reference through 22 convs, an attention and 20 GroupNorms on outputs of order 1: float32
     * rounding accumulates to a few 1e-6 (the observed error is printed); 1e-4·(1+|ref|) is the budget.
     */
    static final double FP32_TOL = 1e-4;
    /**
     * fp16 activations and weights through the whole stack (norm statistics in fp32): ~1e-3 relative rounding per
     * layer, partly renormalised by the next GroupNorm; 2e-2 leaves margin while a structural error (missing
     * attention, wrong upsampler, wrong block order) gives errors of order 0.1-1.
     */
    static final double FP16_TOL = 2e-2;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("diffusion_pytorch_model.safetensors");

    private final AutoencoderKlConfig tiny = AutoencoderKlConfig.TINY;

    /** Decodes random latents (pipeline-scaled, de-scaled by the config helper) and compares; returns the reference. */
    private double[] decodeAndCompare(AutoencoderKlConfig config, GraphTarget target, DType weights, int b, int h,
            int w, double tol) throws Exception {
        r.random(weights, 42, config::writeRandomWeights);
        int z = config.latentChannels();
        int s = config.scaleFactor();
        float[] latents = normal(new Random(9), b * z * h * w);
        float[] zIn = roundTo(target.activationType(), config.latentsToDecoderInput(latents));
        GraphBuilder g = new AutoencoderKlDecoder(config).build(target, r.store());
        float[] image = r.runSingle(g, Map.of(AutoencoderKlDecoder.INPUT, Input.of(zIn, b, z, h, w)),
                b, config.outChannels(), h * s, w * s);
        AutoencoderKlReference ref = new AutoencoderKlReference(r.store(), config.normNumGroups());
        Img zImg = new Img(d(zIn), b, z, h, w);
        double[] expected = ref.decode(config, zImg).v();
        assertClose(expected, image, tol, "decoder " + config + " " + target + " weights " + weights + " z [" + b + ","
                + z + "," + h + "," + w + "]");
        if (config.midBlockAddAttention()) {
            // the same comparison fails for a decoder without its mid attention
            double[] noAttention = ref.decode(config, zImg, false).v();
            double diff = 0;
            for (int i = 0; i < expected.length; i++) {
                diff = Math.max(diff, Math.abs(expected[i] - noAttention[i]));
            }
            assertTrue(diff > 10 * tol * (1 + maxAbs(expected)), "dropping the attention changes the image by " + diff);
        }
        return expected;
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @Test
    void tinyDecoderMatchesReference() throws Exception {
        assertEquals(8, tiny.scaleFactor());
        double[] image = decodeAndCompare(tiny, GraphTarget.CPU_FP32, DType.FLOAT32, 1, 4, 6, FP32_TOL);
        double m = maxAbs(image);
        assertTrue(m > 0.3 && m < 50, "activations stay sane: max |image| = " + m);
    }

    @Test
    void batchedNonSquareLatents() throws Exception {
        decodeAndCompare(tiny, GraphTarget.CPU_FP32, DType.FLOAT32, 2, 3, 2, FP32_TOL);
    }

    @Test
    void bf16WeightsOnFp32Graph() throws Exception {
        decodeAndCompare(tiny, GraphTarget.CPU_FP32, DType.BFLOAT16, 1, 4, 6, FP32_TOL);
    }

    @Test
    void fp16Graph() throws Exception {
        decodeAndCompare(tiny, GraphTarget.CANN_FP16, DType.FLOAT16, 1, 4, 6, FP16_TOL);
    }

    @Test
    void postQuantConvWithoutAttentionAndTwoBlocks() throws Exception {
        ObjectNode json = tiny.toJson();
        json.put("use_post_quant_conv", true).put("mid_block_add_attention", false).put("latent_channels", 4);
        json.putArray("block_out_channels").add(16).add(32);
        json.putArray("down_block_types").add("DownEncoderBlock2D").add("DownEncoderBlock2D");
        json.putArray("up_block_types").add("UpDecoderBlock2D").add("UpDecoderBlock2D");
        AutoencoderKlConfig c = AutoencoderKlConfig.fromJson(json);
        assertEquals(2, c.scaleFactor());
        decodeAndCompare(c, GraphTarget.CPU_FP32, DType.FLOAT32, 1, 3, 5, FP32_TOL);
    }

    // ---- weight checks ---------------------------------------------------------------------------------

    /** Stages the TINY decoder tensors, except {@code name} gets {@code shape} (or is left out when null). */
    private void weightsWith(String name, long[] shape) {
        Map<String, long[]> shapes = new LinkedHashMap<>(tiny.decoderTensorShapes());
        if (shape == null) {
            shapes.remove(name);
        } else {
            shapes.put(name, shape);
        }
        r.random(DType.FLOAT32, 1, rnd -> shapes.forEach((n, s) -> rnd.gaussian(n, 0.1, s)));
    }

    @Test
    void convAttentionWeightIsRejectedNamingTheTensor() {
        // old-style checkpoints store the attention projections as 1x1 convs; diffusers-format files do not
        String name = "decoder.mid_block.attentions.0.to_q.weight";
        weightsWith(name, new long[] {32, 32, 1, 1});
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new AutoencoderKlDecoder(tiny).build(GraphTarget.CPU_FP32, r.store()));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("[32, 32]"), e.getMessage());
    }

    @Test
    void missingShortcutIsNamed() {
        String name = "decoder.up_blocks.2.resnets.0.conv_shortcut.weight";
        weightsWith(name, null);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new AutoencoderKlDecoder(tiny).build(GraphTarget.CPU_FP32, r.store()));
        assertTrue(e.getMessage().contains(name), e.getMessage());
    }

    @Test
    void graphDeclaresEveryDecoderTensor() {
        r.random(DType.FLOAT32, 1, tiny::writeRandomWeights);
        GraphBuilder g = new AutoencoderKlDecoder(tiny).build(GraphTarget.CPU_FP32, r.store());
        assertEquals(tiny.decoderTensorShapes().keySet().stream().sorted().toList(),
                g.weightNames().stream().sorted().toList());
        assertEquals(List.of(AutoencoderKlDecoder.INPUT), g.inputNames());
    }
}
