package dev.ditfn.model.vision;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.ditfn.model.text.QwenTextInputs;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The vision-tower graph against {@link QwenVisionReference} (double precision, upstream's permuted varlen
 * formulation), on ORT's CPU provider.
 *
 * <p>Tolerance: fp32 {@value #FP32_TOL} absolute + relative: four blocks of width 32-48, a 1176-wide patch embed and a
 * 128-wide merger in fp32 give errors around 1e-6; a dropped window mask, a wrong patch order or a swapped RoPE axis
 * moves outputs by O(0.1). fp16 (CANN_FP16, weights stored in fp16): {@value #FP16_TOL}.
 */
class QwenVisionTowerTest {
    static final double FP32_TOL = 1e-4;
    static final double FP16_TOL = 3e-2;
    static final QwenVisionConfig TINY = QwenVisionConfig.TINY;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("model.safetensors");

    private WeightStore weights(DType type, long seed, boolean newLayout) {
        return r.random(type, seed, w -> TINY.writeRandomWeights(w, newLayout)).store();
    }

    private static Map<String, Input> inputs(float[] pixels, int gh, int gw) {
        int p = gh * gw;
        QwenTextInputs.Rope rope = TINY.rope(gh, gw);
        Map<String, Input> in = new HashMap<>(windowInputs(gh, gw));
        in.put(QwenVisionTower.PIXEL_VALUES, Input.of(pixels, p, TINY.patchFeatures()));
        in.put(QwenVisionTower.ROPE_COS, Input.of(rope.cos(), p, TINY.headDim()));
        in.put(QwenVisionTower.ROPE_SIN, Input.of(rope.sin(), p, TINY.headDim()));
        return in;
    }

    /** {@code window_rows}, {@code window_pad_bias}, {@code inverse_rows} of a {@code gh × gw} grid. */
    private static Map<String, Input> windowInputs(int gh, int gw) {
        QwenVisionInputs.Windows w = TINY.windows(gh, gw);
        return Map.of(QwenVisionTower.WINDOW_ROWS, Input.ofLongs(w.rows(), w.rows().length),
                QwenVisionTower.WINDOW_PAD_BIAS, Input.of(w.padBias(), w.count(), 1, 1, w.length()),
                QwenVisionTower.INVERSE_ROWS, Input.ofLongs(w.inverseRows(), gh * gw));
    }

    private float[] tower(GraphTarget target, WeightStore store, float[] pixels, int gh, int gw) throws Exception {
        GraphBuilder g = new QwenVisionTower(TINY).build(target, store);
        return r.runSingle(g, inputs(pixels, gh, gw), gh * gw / 4, TINY.outHiddenSize());
    }

    /** One block of the graph on {@code x [1, P, hidden]}, windowed or full as the config says. */
    private float[] block(WeightStore store, int index, float[] x, int gh, int gw) throws Exception {
        int p = gh * gw;
        int hidden = TINY.hiddenSize();
        GraphBuilder g = new GraphBuilder("block", GraphTarget.CPU_FP32, store);
        QwenVisionTower tower = new QwenVisionTower(TINY);
        Value cos = g.unsqueeze(g.input("cos", DType.FLOAT32, "p", TINY.headDim()), 1);
        Value sin = g.unsqueeze(g.input("sin", DType.FLOAT32, "p", TINY.headDim()), 1);
        QwenVisionTower.Windows windows = tower.windows(g,
                g.input(QwenVisionTower.WINDOW_ROWS, DType.INT64, "slots"),
                g.input(QwenVisionTower.WINDOW_PAD_BIAS, DType.FLOAT32, "w", 1, 1, TINY.windowLength()),
                g.input(QwenVisionTower.INVERSE_ROWS, DType.INT64, "p"), cos, sin);
        Value y = tower.block(g, "visual.blocks." + index + ".", g.input("x", DType.FLOAT32, 1, "p", hidden), cos, sin,
                TINY.fullAttention(index) ? null : windows);
        g.output(y, "y", DType.FLOAT32, 1, "p", hidden);
        QwenTextInputs.Rope rope = TINY.rope(gh, gw);
        Map<String, Input> in = new HashMap<>(windowInputs(gh, gw));
        in.put("x", Input.of(x, 1, p, hidden));
        in.put("cos", Input.of(rope.cos(), p, TINY.headDim()));
        in.put("sin", Input.of(rope.sin(), p, TINY.headDim()));
        return r.runSingle(g, in, 1, p, hidden);
    }

    private static double maxDiff(double[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void windowBlockAndFullBlockMatchReference() throws Exception {
        WeightStore store = weights(DType.FLOAT32, 21, false);
        int gh = 10;
        int gw = 12; // merged 5 x 6: windows of 4 x 4 merged tokens, 2 x 2 of them, the right and bottom ones partial
        float[] x = normal(new Random(2), gh * gw * TINY.hiddenSize());
        QwenVisionReference ref = new QwenVisionReference(TINY, store);
        assertFalse(TINY.fullAttention(0));
        assertClose(ref.block(d(x), gh, gw, 0), block(store, 0, x, gh, gw), FP32_TOL, "window block 0");
        assertTrue(TINY.fullAttention(1));
        assertClose(ref.block(d(x), gh, gw, 1), block(store, 1, x, gh, gw), FP32_TOL, "full block 1");
    }

    @Test
    void mergerMatchesReference() throws Exception {
        WeightStore store = weights(DType.FLOAT32, 22, false);
        int rows = 24;
        float[] x = normal(new Random(3), rows * TINY.hiddenSize());
        GraphBuilder g = new GraphBuilder("merger", GraphTarget.CPU_FP32, store);
        Value y = new QwenVisionTower(TINY).merger(g, "visual.merger.",
                g.input("x", DType.FLOAT32, 1, "p", TINY.hiddenSize()));
        g.output(y, "y", DType.FLOAT32, "t", TINY.outHiddenSize());
        float[] got = r.runSingle(g, Map.of("x", Input.of(x, 1, rows, TINY.hiddenSize())), rows / 4,
                TINY.outHiddenSize());
        assertClose(new QwenVisionReference(TINY, store).merger(d(x), rows), got, FP32_TOL, "merger");
    }

    @Test
    void tinyTowerMatchesReferenceAndTheWindowMaskMatters() throws Exception {
        WeightStore store = weights(DType.FLOAT32, 23, false);
        int gh = 8;
        int gw = 12; // merged 4 x 6: one full window and a partial one (4 x 2) to its right
        float[] pixels = normal(new Random(4), gh * gw * TINY.patchFeatures());
        float[] got = tower(GraphTarget.CPU_FP32, store, pixels, gh, gw);
        double[] want = new QwenVisionReference(TINY, store).forward(d(pixels), gh, gw);
        assertClose(want, got, FP32_TOL, "TINY tower on 8 x 12 patches");
        // Without the window mask the blocks 0 and 2 would see the other window: far beyond tolerance.
        double[] full = new QwenVisionReference(TINY, store).withoutWindows().forward(d(pixels), gh, gw);
        double diff = maxDiff(full, got);
        System.out.println("full attention everywhere (window mask dropped) differs by " + diff);
        assertTrue(diff > 100 * FP32_TOL, "full attention everywhere differs by only " + diff);
    }

    @Test
    void towerOnPartialWindowsBothWaysAndNewLayoutNames() throws Exception {
        WeightStore store = weights(DType.FLOAT32, 24, true);
        assertEquals(QwenVisionConfig.NEW_PREFIX, QwenVisionTower.detectPrefix(store));
        int gh = 12;
        int gw = 10; // merged 6 x 5: 2 x 2 windows, partial at the right and at the bottom
        float[] pixels = normal(new Random(5), gh * gw * TINY.patchFeatures());
        float[] got = tower(GraphTarget.CPU_FP32, store, pixels, gh, gw);
        assertClose(new QwenVisionReference(TINY, store).forward(d(pixels), gh, gw), got, FP32_TOL,
                "TINY tower on 12 x 10 patches, model.visual. names");
    }

    @ParameterizedTest(name = "{0} x {1} patches")
    @CsvSource({"8, 12, 25, 6", "18, 22, 27, 8"}) // one full window and a partial one; 3 x 3, partial both ways
    void tinyTowerFp16StandardOpsMatchesReference(int gh, int gw, long weightSeed, long pixelSeed) throws Exception {
        WeightStore store = weights(DType.FLOAT16, weightSeed, false);
        float[] pixels = normal(new Random(pixelSeed), gh * gw * TINY.patchFeatures());
        float[] got = tower(GraphTarget.CANN_FP16, store, pixels, gh, gw);
        assertClose(new QwenVisionReference(TINY, store).forward(d(pixels), gh, gw), got, FP16_TOL,
                "TINY tower on " + gh + " x " + gw + " patches (CANN_FP16 graph on CPU EP)");
    }

    @Test
    void graphReadsEveryWrittenTensorAndNamesItsInputs() {
        WeightStore store = weights(DType.FLOAT32, 1, false);
        GraphBuilder g = new QwenVisionTower(TINY).build(GraphTarget.CPU_FP32, store);
        assertEquals(store.names(), new HashSet<>(g.weightNames()));
        assertEquals(List.of(QwenVisionTower.PIXEL_VALUES, QwenVisionTower.ROPE_COS, QwenVisionTower.ROPE_SIN,
                QwenVisionTower.WINDOW_ROWS, QwenVisionTower.WINDOW_PAD_BIAS, QwenVisionTower.INVERSE_ROWS),
                g.inputNames());
        long params = store.names().stream().mapToLong(n -> store.spec(n).elementCount()).sum();
        assertEquals(TINY.parameterCount(), params);
        String model = new String(new QwenVisionTower(TINY).build(GraphTarget.CANN_FP16, store).toModelBytes(),
                StandardCharsets.ISO_8859_1);
        assertFalse(model.contains("com.microsoft"), "standard ops only for CANN_FP16");
    }

    @Test
    void towerOnSeveralPartialWindowsBothWays() throws Exception {
        WeightStore store = weights(DType.FLOAT32, 26, false);
        int gh = 18;
        int gw = 22; // merged 9 x 11: 3 x 3 windows, the last row 1 merged token high, the last column 3 wide
        assertEquals(9, TINY.windows(gh, gw).count());
        float[] pixels = normal(new Random(7), gh * gw * TINY.patchFeatures());
        float[] got = tower(GraphTarget.CPU_FP32, store, pixels, gh, gw);
        assertClose(new QwenVisionReference(TINY, store).forward(d(pixels), gh, gw), got, FP32_TOL,
                "TINY tower on 18 x 22 patches");
        // The pad slots of the partial windows must be masked: unmasked, they add copies of row 0 to every window.
        Map<String, Input> unmasked = new HashMap<>(inputs(pixels, gh, gw));
        QwenVisionInputs.Windows w = TINY.windows(gh, gw);
        unmasked.put(QwenVisionTower.WINDOW_PAD_BIAS, Input.of(new float[w.padBias().length], w.count(), 1, 1, 64));
        float[] padded = r.runSingle(new QwenVisionTower(TINY).build(GraphTarget.CPU_FP32, store), unmasked,
                gh * gw / 4, TINY.outHiddenSize());
        double diff = maxDiff(d(got), padded);
        assertTrue(diff > 100 * FP32_TOL, "unmasked pad slots differ by only " + diff);
    }

    /**
     * No graph input grows with P² (the old {@code window_bias [P, P]} did): every input has at most one
     * per-patch axis, and for a 1036² image (74 × 74 patches) the window inputs are about 120 kB (the bias was 120 MB).
     */
    @Test
    void noInputIsPatchesByPatches() throws Exception {
        WeightStore store = weights(DType.FLOAT32, 1, false);
        GraphProto graph = ModelProto.parseFrom(new QwenVisionTower(TINY).build(GraphTarget.CPU_FP32, store)
                .toModelBytes()).getGraph();
        for (ValueInfoProto in : graph.getInputList()) {
            long perPatch = in.getType().getTensorType().getShape().getDimList().stream()
                    .filter(dim -> dim.getDimParam().equals("patches")).count();
            assertTrue(perPatch <= 1, in.getName() + " has " + perPatch + " per-patch axes");
        }
        QwenVisionInputs.Windows w = QwenVisionConfig.QWEN2_5_VL_7B.windows(74, 74);
        int p = 74 * 74;
        assertEquals(100, w.count()); // merged 37 x 37: 10 x 10 windows, the last row and column 1 merged token wide
        assertEquals(100 * 64, w.rows().length);
        assertEquals(p, w.inverseRows().length);
        System.out.println("1036^2 window inputs: " + w.bytes() + " bytes; a [P, P] float32 bias: " + 4L * p * p);
        assertTrue(w.bytes() < 200_000, "window inputs of " + w.bytes() + " bytes");
    }

    @Test
    void missingWeightsAreNamed() {
        WeightStore other = r.weight("model.embed_tokens.weight", new long[] {1}, new float[] {0}).store();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QwenVisionTower(TINY).build(GraphTarget.CPU_FP32, other));
        assertTrue(e.getMessage().contains("visual.patch_embed.proj.weight")
                && e.getMessage().contains("model.visual.patch_embed.proj.weight"), e.getMessage());
    }
}
