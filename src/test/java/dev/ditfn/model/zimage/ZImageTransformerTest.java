package dev.ditfn.model.zimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.testing.TestData;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static dev.ditfn.testing.AssertClose.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Z-Image DiT graph (fp32, CPU) against the double-precision {@link ZImageReference} written independently from
 * the spec and upstream: the whole forward with image and caption pad tokens, and the Java-side sequence (patchify,
 * ids, RoPE tables) against the reference's. Tolerance {@code |ort − ref| ≤ 1e-4·(1 + |ref|)}: fp32 GEMMs and the
 * fp32 timestep sinusoid (upstream's own rounding, see the reference) stay well inside it; any wrong operation moves
 * values by O(0.1).
 */
class ZImageTransformerTest {
    private static final double TOL = 1e-4;
    private static final ZImageTransformerConfig CONFIG = ZImageTransformerConfig.small(64, 2, 2, 24,
            new int[] {8, 12, 12});
    private static final ZImageReference.Dims DIMS = new ZImageReference.Dims(16, 2, 64, 2, 2, 2, 24, 1e-5, 256.0,
            1000.0, new int[] {8, 12, 12}, new int[] {1536, 512, 512});

    @Test
    void theJavaSideSequenceIsTheReferences() {
        ZImageSequence seq = new ZImageSequence(16, 6, 10, 7);
        assertArrayEquals(ZImageReference.imagePositionIds(7, 3, 5), seq.imagePositionIds());
        assertArrayEquals(ZImageReference.captionPositionIds(7), seq.captionPositionIds());
        double[] latent = ReferenceMath.d(TestData.normal(new Random(3), 16 * 6 * 10));
        double[][] patches = ZImageReference.patchify(latent, 16, 6, 10, 2);
        float[] rows = seq.patchify(ReferenceMath.f(latent));
        assertEquals(32 * 64, rows.length, "15 image tokens padded to 32");
        for (int t = 0; t < 32; t++) {
            double[] expected = patches[Math.min(t, 14)]; // pads repeat the last row
            for (int j = 0; j < 64; j++) {
                assertEquals(expected[j], rows[t * 64 + j], 0, "row " + t + " feature " + j);
            }
        }
        assertArrayEquals(ReferenceMath.f(latent), seq.unpatchify(rows));
        ZImageRope.Tables tables = new ZImageRope(CONFIG).tables(seq.imagePositionIds());
        for (int t = 0; t < 32; t++) {
            double[] angles = ZImageReference.ropeAngles(DIMS, seq.imagePositionIds()[t]);
            for (int j = 0; j < angles.length; j++) {
                assertEquals(Math.cos(angles[j]), tables.cos()[t * 16 + j], 1e-7);
                assertEquals(Math.sin(angles[j]), tables.sin()[t * 16 + j], 1e-7);
            }
        }
    }

    /**
     * The prologue alone (embedders, pad tokens, both noise-refiner and context-refiner layers) and then one main
     * layer as its own segment, each against the reference's intermediate values.
     */
    @Test
    void theRefinersAndOneMainLayerMatchTheReference(@TempDir Path dir) throws Exception {
        OrtRuntime runtime = CpuRuntime.shared();
        Random rnd = new Random(8);
        int h = 4;
        int w = 6;
        float[] latent = TestData.normal(rnd, 16 * h * w);
        float[] caption = TestData.normal(rnd, 3 * 24);
        ZImageSequence seq = new ZImageSequence(16, h, w, 3);
        try (GraphRunner runner = new GraphRunner(dir, "diffusion_pytorch_model.safetensors")
                .random(DType.FLOAT32, 4, CONFIG::writeRandomWeights);
                var cond = new ZImageConditioning(runtime.env(), DType.FLOAT32, new ZImageRope(CONFIG), seq, caption,
                        24);
                OnnxTensor patches = Tensors.of(runtime.env(), DType.FLOAT32, seq.patchify(latent), 1,
                        seq.paddedImageTokens(), 64);
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.8f}, 1)) {
            WeightStore store = runner.store();
            Function<String, double[]> weights = name -> ReferenceMath.weight(store, name);
            ZImageReference.Prologue ref = ZImageReference.prologue(DIMS, ReferenceMath.d(latent), h, w, 0.8,
                    ReferenceMath.unflatten(ReferenceMath.d(caption), 24), weights);
            Map<String, OnnxTensor> inputs = cond.with(patches, timestep);
            float[] x;
            float[] c;
            try (ModelSession s = runtime.createSession(new ZImageTransformer(CONFIG).build(GraphTarget.CPU_FP32,
                    store, new TransformerSegment(0, 0, true, false, false)), store);
                    OrtSession.Result r = s.run(feeds(s, inputs))) {
                x = Tensors.floats(r.get(ZImageTransformer.X + "_out").orElseThrow());
                c = Tensors.floats(r.get(ZImageTransformer.ADALN + "_out").orElseThrow());
            }
            assertClose(ref.c(), c, TOL, "timestep conditioning");
            assertClose(ReferenceMath.flatten(ref.x()), x, TOL, "unified sequence after both refiners");

            double[][] expected = ZImageReference.block(DIMS, "layers.1", ref.x(), ref.ids(), ref.c(), weights);
            int tokens = ref.x().length;
            Map<String, OnnxTensor> blockInputs = new HashMap<>(inputs);
            try (OnnxTensor xIn = Tensors.of(runtime.env(), DType.FLOAT32, ReferenceMath.f(ReferenceMath.flatten(
                    ref.x())), 1, tokens, 64);
                    OnnxTensor cIn = Tensors.of(runtime.env(), DType.FLOAT32, ReferenceMath.f(ref.c()), 1, 64);
                    ModelSession s = runtime.createSession(new ZImageTransformer(CONFIG).build(GraphTarget.CPU_FP32,
                            store, new TransformerSegment(1, 2, false, false, false)), store)) {
                blockInputs.put(ZImageTransformer.X, xIn);
                blockInputs.put(ZImageTransformer.ADALN, cIn);
                try (OrtSession.Result r = s.run(feeds(s, blockInputs))) {
                    assertClose(ReferenceMath.flatten(expected), Tensors.floats(r.get(0)), TOL, "main layer 1");
                }
            }
        }
    }

    private static Map<String, OnnxTensor> feeds(ModelSession s, Map<String, OnnxTensor> inputs) {
        Map<String, OnnxTensor> feeds = new HashMap<>(inputs);
        feeds.keySet().retainAll(s.session().getInputNames());
        return feeds;
    }

    @Test
    void theForwardMatchesTheReferenceWithPadTokens(@TempDir Path dir) throws Exception {
        OrtRuntime runtime = CpuRuntime.shared();
        Random rnd = new Random(7);
        int h = 6;
        int w = 10;
        int captionLength = 5;
        float[] latent = TestData.normal(rnd, 16 * h * w);
        float[] caption = TestData.normal(rnd, captionLength * 24);
        float t = 0.35f;
        ZImageSequence seq = new ZImageSequence(16, h, w, captionLength);
        try (GraphRunner runner = new GraphRunner(dir, "diffusion_pytorch_model.safetensors")
                .random(DType.FLOAT32, 9, CONFIG::writeRandomWeights);
                var cond = new ZImageConditioning(runtime.env(), DType.FLOAT32, new ZImageRope(CONFIG), seq, caption,
                        24);
                OnnxTensor patches = Tensors.of(runtime.env(), DType.FLOAT32, seq.patchify(latent), 1,
                        seq.paddedImageTokens(), 64);
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {t}, 1)) {
            WeightStore store = runner.store();
            float[] out;
            try (ModelSession s = runtime.createSession(new ZImageTransformer(CONFIG).build(GraphTarget.CPU_FP32,
                    store, TransformerSegment.whole(2)), store)) {
                try (OrtSession.Result r = s.run(feeds(s, cond.with(patches, timestep)))) {
                    out = Tensors.floats(r.get(0));
                }
            }
            Function<String, double[]> weights = name -> ReferenceMath.weight(store, name);
            double[] expected = ZImageReference.forward(DIMS, ReferenceMath.d(latent), h, w, t,
                    ReferenceMath.unflatten(ReferenceMath.d(caption), 24), weights);
            float[] actual = seq.unpatchify(out);
            assertClose(expected, actual, TOL, "Z-Image forward");
            double spread = 0;
            for (double e : expected) {
                spread = Math.max(spread, Math.abs(e));
            }
            assertTrue(spread > 0.1, "the output is not trivially small: " + spread);
        }
    }
}
