package dev.ditfn.model.text;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntPredicate;

/**
 * The text-encoder graph against {@link QwenTextReference} (double precision), on ORT's CPU provider.
 *
 * <p>Tolerance: fp32 graphs {@value #FP32_TOL} absolute + relative. The graph computes in fp32 (relative step
 * 6e-8) through two layers of width 32-64 and a softmax; observed errors are around 1e-6, so 1e-4 leaves two orders of
 * magnitude of margin while any wrong operation (a swapped RoPE half, a missing bias, a wrong KV head) shows up as
 * O(0.1-1). fp16 graphs (CANN_FP16: standard ops, MatMul/Softmax attention, -inf bias cast to fp16) use
 * {@value #FP16_TOL}: weights are stored in fp16 so the reference sees the same values, and the error comes from fp16
 * intermediates (11-bit mantissa, ~5e-4 relative per rounding) accumulated over two layers and the final norm.
 */
class QwenTextEncoderTest {
    static final double FP32_TOL = 1e-4;
    static final double FP16_TOL = 2e-2;
    static final QwenTextEncoderConfig TINY = QwenTextEncoderConfig.TINY;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("model.safetensors");

    /** Stages random weights of {@code c} into {@code runner} and opens them. */
    private static WeightStore randomWeights(GraphRunner runner, QwenTextEncoderConfig c, boolean newLayout,
            DType type, long seed) {
        return runner.random(type, seed, w -> c.writeRandomWeights(w, newLayout)).store();
    }

    private static Map<String, Input> inputs(QwenTextInputs.Batch batch, QwenTextEncoderConfig c) {
        QwenTextInputs.Rope rope = QwenTextInputs.rope(batch.length(), c.headDim(), c.ropeTheta());
        return Map.of(
                QwenTextEncoder.INPUT_IDS, Input.ofLongs(batch.inputIds(), batch.batch(), batch.length()),
                QwenTextEncoder.COS, Input.of(rope.cos(), batch.length(), c.headDim()),
                QwenTextEncoder.SIN, Input.of(rope.sin(), batch.length(), c.headDim()),
                QwenTextEncoder.ATTENTION_BIAS, Input.of(QwenTextInputs.attentionBias(batch.attentionMask(), batch.batch(),
                        batch.length()), batch.batch(), 1, batch.length(), batch.length()));
    }

    /** The TINY encoder on {@code batch}, built for {@code target} over the staged weights. */
    private float[] run(GraphTarget target, QwenTextInputs.Batch batch) throws Exception {
        GraphBuilder g = new QwenTextEncoder(TINY).build(target, r.store());
        return r.runSingle(g, inputs(batch, TINY), batch.batch(), batch.length(), TINY.hiddenSize());
    }

    /** Compares only the rows of {@code batch} that are not padding. */
    private static IntPredicate validRows(QwenTextInputs.Batch batch, int width) {
        return i -> batch.attentionMask()[i / width] != 0;
    }

    private static long[] ids(long... v) {
        return v;
    }

    // ---- one decoder layer -----------------------------------------------------------------------------

    @Test
    void oneDecoderLayerMatchesReference() throws Exception {
        QwenTextEncoderConfig c = TINY;
        WeightStore store = randomWeights(r, c, false, DType.FLOAT32, 11);
        int batch = 2;
        int len = 6;
        int hidden = c.hiddenSize();
        float[] x = normal(new Random(5), batch * len * hidden);
        GraphBuilder g = new GraphBuilder("layer", GraphTarget.CPU_FP32, store);
        QwenTextEncoder enc = new QwenTextEncoder(c);
        Value y = enc.decoderLayer(g, "model.layers.1.", g.input("h", DType.FLOAT32, "batch", "seq", hidden),
                g.input("cos", DType.FLOAT32, "seq", c.headDim()), g.input("sin", DType.FLOAT32, "seq", c.headDim()),
                g.input("bias", DType.FLOAT32, "batch", 1, "seq", "seq"));
        g.output(y, "out", DType.FLOAT32, "batch", "seq", hidden);
        long[] mask = new long[batch * len];
        Arrays.fill(mask, 1);
        QwenTextInputs.Rope rope = QwenTextInputs.rope(len, c.headDim(), c.ropeTheta());
        float[] got = r.runSingle(g, Map.of("h", Input.of(x, batch, len, hidden),
                "cos", Input.of(rope.cos(), len, c.headDim()), "sin", Input.of(rope.sin(), len, c.headDim()),
                "bias", Input.of(QwenTextInputs.attentionBias(mask, batch, len), batch, 1, len, len)),
                batch, len, hidden);

        long[] pos = QwenTextInputs.positions(mask, batch, len);
        double[] want = new QwenTextReference(c, store).layer(d(x), batch, len, pos,
                QwenTextReference.causal(batch, len), "model.layers.1.");
        assertClose(want, got, FP32_TOL, "one decoder layer (fp32)");
    }

    // ---- whole encoder ---------------------------------------------------------------------------------

    @Test
    void tinyEncoderMatchesReference() throws Exception {
        WeightStore store = randomWeights(r, TINY, false, DType.FLOAT32, 3);
        long[] seq = TinyTokenizer.tokenizer().encode("<|im_start|>user\nA red cat on the mat<|im_end|>");
        assertTrue(seq.length >= 8, "a short but not trivial sequence");
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(seq), 0);
        float[] got = run(GraphTarget.CPU_FP32, b);
        double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 1, b.length());
        assertClose(want, got, FP32_TOL, "TINY encoder, " + seq.length + " tokens (fp32)");
    }

    @Test
    void tinyEncoderFp16StandardOpsMatchesReference() throws Exception {
        WeightStore store = randomWeights(r, TINY, false, DType.FLOAT16, 3);
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(ids(5, 70, 262, 300, 12, 9, 220, 198, 330), ids(7, 8, 9)),
                TinyTokenizer.tokenizer().padTokenId());
        float[] got = run(GraphTarget.CANN_FP16, b);
        double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 2, b.length());
        assertClose(want, got, FP16_TOL, FP16_TOL, validRows(b, TINY.hiddenSize()),
                "TINY encoder, right-padded batch (CANN_FP16 graph on CPU EP)");
    }

    @Test
    void paddedBatchMatchesUnpaddedSequences() throws Exception {
        WeightStore store = randomWeights(r, TINY, false, DType.FLOAT32, 4);
        long[] longSeq = ids(17, 262, 300, 45, 198, 260, 12, 99, 101, 7);
        long[] shortSeq = ids(33, 44, 258, 300, 9, 198);
        float[] aloneLong = run(GraphTarget.CPU_FP32, QwenTextInputs.pad(List.of(longSeq), 0));
        float[] aloneShort = run(GraphTarget.CPU_FP32, QwenTextInputs.pad(List.of(shortSeq), 0));
        QwenTextReference ref = new QwenTextReference(TINY, store);
        int hidden = TINY.hiddenSize();
        for (boolean left : new boolean[] {false, true}) {
            QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(shortSeq, longSeq), 0, left);
            float[] got = run(GraphTarget.CPU_FP32, b);
            for (float f : got) {
                assertFalse(Float.isNaN(f), "no NaN anywhere, padding rows included");
            }
            String side = left ? "left" : "right";
            assertClose(ref.forward(b.inputIds(), b.attentionMask(), 2, b.length()), got, FP32_TOL, FP32_TOL,
                    validRows(b, hidden), side + "-padded batch vs reference");
            // Valid rows of each sample equal that sample run alone.
            int offset = left ? longSeq.length - shortSeq.length : 0;
            float[] gotShort = Arrays.copyOfRange(got, offset * hidden, (offset + shortSeq.length) * hidden);
            assertClose(d(aloneShort), gotShort, FP32_TOL, side + "-padded short sample vs alone");
            float[] gotLong = Arrays.copyOfRange(got, longSeq.length * hidden, 2 * longSeq.length * hidden);
            assertClose(d(aloneLong), gotLong, FP32_TOL, side + "-padded long sample vs alone");
        }
    }

    @Test
    void newLayoutNamesLoad() throws Exception {
        WeightStore store = randomWeights(r, TINY, true, DType.FLOAT32, 8);
        assertTrue(store.contains("model.language_model.embed_tokens.weight"));
        assertFalse(store.contains("model.embed_tokens.weight"));
        assertEquals(QwenTextEncoder.NEW_PREFIX, QwenTextEncoder.detectPrefix(store));
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(ids(1, 2, 3, 262, 198)), 0);
        GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store);
        assertTrue(g.weightNames().stream().allMatch(n -> n.startsWith("model.language_model.")), "new names only");
        float[] got = r.runSingle(g, inputs(b, TINY), 1, b.length(), TINY.hiddenSize());
        double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 1, b.length());
        assertClose(want, got, FP32_TOL, "new-layout names (fp32)");
    }

    @Test
    void legacyLayoutUsesEveryWrittenTensorAndNothingElse() {
        WeightStore store = randomWeights(r, TINY, false, DType.FLOAT32, 1);
        assertEquals(QwenTextEncoder.LEGACY_PREFIX, QwenTextEncoder.detectPrefix(store));
        GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store);
        assertEquals(store.names(), new HashSet<>(g.weightNames()));
        assertEquals(List.of(QwenTextEncoder.INPUT_IDS, QwenTextEncoder.COS, QwenTextEncoder.SIN,
                QwenTextEncoder.ATTENTION_BIAS), g.inputNames());
        long params = store.names().stream().mapToLong(n -> store.spec(n).elementCount()).sum();
        assertEquals(TINY.parameterCount(), params);
    }

    @Test
    void standardOpsTargetEmitsNoContribOps() {
        WeightStore store = randomWeights(r, TINY, false, DType.FLOAT32, 1);
        GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CANN_FP16, store);
        String model = new String(g.toModelBytes(), StandardCharsets.ISO_8859_1);
        assertFalse(model.contains("com.microsoft"));
    }

    @Test
    void missingWeightsAndWrongShapesAreNamed() throws Exception {
        WeightStore visionOnly = r.weight("visual.patch_embed.proj.weight", new long[] {1}, new float[] {0}).store();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, visionOnly));
        assertTrue(e.getMessage().contains("model.embed_tokens.weight")
                && e.getMessage().contains("model.language_model.embed_tokens.weight"), e.getMessage());
        // Weights of a wider model do not fit TINY's graph: the error names the tensor.
        QwenTextEncoderConfig wider = new QwenTextEncoderConfig(48, 2, 4, 2, 64, 1e-6, 1e6, TINY.vocabSize(),
                new int[] {2, 2, 2});
        try (GraphRunner other = GraphRunner.temporary("model.safetensors")) {
            WeightStore store = randomWeights(other, wider, false, DType.FLOAT32, 1);
            e = assertThrows(IllegalArgumentException.class,
                    () -> new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store));
            assertTrue(e.getMessage().contains("model.embed_tokens.weight"), e.getMessage());
        }
    }

    // ---- inputs helper ---------------------------------------------------------------------------------

    @Test
    void positionsAreCumsumMinusOneWithOneAtPadding() {
        long[] mask = {0, 0, 1, 1, 1, /* */ 1, 1, 1, 0, 0};
        assertEquals(List.of(1L, 1L, 0L, 1L, 2L, 0L, 1L, 2L, 1L, 1L),
                Arrays.stream(QwenTextInputs.positions(mask, 2, 5)).boxed().toList());
    }

    @Test
    void ropeTablesAreRotateHalfLayout() {
        QwenTextInputs.Rope r = QwenTextInputs.rope(4, 8, 1e6);
        for (int p = 0; p < 4; p++) {
            for (int j = 0; j < 4; j++) {
                double angle = p / Math.pow(1e6, 2.0 * j / 8);
                assertEquals(Math.cos(angle), r.cos()[p * 8 + j], 1e-6);
                assertEquals(Math.cos(angle), r.cos()[p * 8 + 4 + j], 1e-6);
                assertEquals(Math.sin(angle), r.sin()[p * 8 + j], 1e-6);
                assertEquals(Math.sin(angle), r.sin()[p * 8 + 4 + j], 1e-6);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> QwenTextInputs.rope(4, 7, 1e6));
    }

    @Test
    void biasIsCausalPlusPaddingWithoutEmptyRows() {
        float n = Float.NEGATIVE_INFINITY;
        // One sample, left-padded by 2: rows 0 and 1 have no valid key and attend to themselves only.
        float[] bias = QwenTextInputs.attentionBias(new long[] {0, 0, 1, 1}, 1, 4);
        float[] want = {
            0, n, n, n,
            n, 0, n, n,
            n, n, 0, n,
            n, n, 0, 0};
        assertEquals(Arrays.toString(want), Arrays.toString(bias));
        // Right padding: padded queries still see the valid keys before them.
        bias = QwenTextInputs.attentionBias(new long[] {1, 1, 0}, 1, 3);
        want = new float[] {
            0, n, n,
            0, 0, n,
            0, 0, n};
        assertEquals(Arrays.toString(want), Arrays.toString(bias));
    }

    @Test
    void padBuildsIdsAndMasks() {
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(ids(1, 2), ids(3, 4, 5)), 9, false);
        assertEquals(List.of(1L, 2L, 9L, 3L, 4L, 5L), Arrays.stream(b.inputIds()).boxed().toList());
        assertEquals(List.of(1L, 1L, 0L, 1L, 1L, 1L), Arrays.stream(b.attentionMask()).boxed().toList());
        b = QwenTextInputs.pad(List.of(ids(1, 2), ids(3, 4, 5)), 9, true);
        assertEquals(List.of(9L, 1L, 2L, 3L, 4L, 5L), Arrays.stream(b.inputIds()).boxed().toList());
        assertEquals(2, b.validLength(0));
    }
}
