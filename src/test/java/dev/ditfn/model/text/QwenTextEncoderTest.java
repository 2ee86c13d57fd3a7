package dev.ditfn.model.text;

import static dev.ditfn.model.text.QwenTextOrtRunner.In;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.model.text.TinyTokenizer;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

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

    @TempDir
    Path dir;

    private static Map<String, In> inputs(QwenTextInputs.Batch batch, QwenTextEncoderConfig c) {
        QwenTextInputs.Rope rope = QwenTextInputs.rope(batch.length(), c.headDim(), c.ropeTheta());
        return Map.of(
                QwenTextEncoder.INPUT_IDS, In.l(batch.inputIds(), batch.batch(), batch.length()),
                QwenTextEncoder.COS, In.f(rope.cos(), batch.length(), c.headDim()),
                QwenTextEncoder.SIN, In.f(rope.sin(), batch.length(), c.headDim()),
                QwenTextEncoder.ATTENTION_BIAS, In.f(QwenTextInputs.attentionBias(batch.attentionMask(), batch.batch(),
                        batch.length()), batch.batch(), 1, batch.length(), batch.length()));
    }

    private static float[] run(QwenTextEncoderConfig c, WeightStore store, GraphTarget target,
            QwenTextInputs.Batch batch) throws Exception {
        GraphBuilder g = new QwenTextEncoder(c).build(target, store);
        return QwenTextOrtRunner.run(g, store, inputs(batch, c), batch.batch(), batch.length(), c.hiddenSize());
    }

    private static long[] ids(long... v) {
        return v;
    }

    // ---- one decoder layer -----------------------------------------------------------------------------

    @Test
    void oneDecoderLayerMatchesReference() throws Exception {
        QwenTextEncoderConfig c = TINY;
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, c, false, DType.FLOAT32, 11)) {
            int batch = 2;
            int len = 6;
            int hidden = c.hiddenSize();
            Random rnd = new Random(5);
            float[] x = new float[batch * len * hidden];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            GraphBuilder g = new GraphBuilder("layer", GraphTarget.CPU_FP32, store);
            QwenTextEncoder enc = new QwenTextEncoder(c);
            Value y = enc.decoderLayer(g, "model.layers.1.", g.input("h", DType.FLOAT32, "batch", "seq", hidden),
                    g.input("cos", DType.FLOAT32, "seq", c.headDim()), g.input("sin", DType.FLOAT32, "seq", c.headDim()),
                    g.input("bias", DType.FLOAT32, "batch", 1, "seq", "seq"));
            g.output(y, "out", DType.FLOAT32, "batch", "seq", hidden);
            long[] mask = new long[batch * len];
            java.util.Arrays.fill(mask, 1);
            QwenTextInputs.Rope rope = QwenTextInputs.rope(len, c.headDim(), c.ropeTheta());
            float[] got = QwenTextOrtRunner.run(g, store, Map.of("h", In.f(x, batch, len, hidden),
                    "cos", In.f(rope.cos(), len, c.headDim()), "sin", In.f(rope.sin(), len, c.headDim()),
                    "bias", In.f(QwenTextInputs.attentionBias(mask, batch, len), batch, 1, len, len)),
                    batch, len, hidden);

            long[] pos = QwenTextInputs.positions(mask, batch, len);
            double[] xd = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xd[i] = x[i];
            }
            double[] want = new QwenTextReference(c, store).layer(xd, batch, len, pos,
                    QwenTextReference.causal(batch, len), "model.layers.1.");
            QwenTextOrtRunner.assertClose(want, got, hidden, null, FP32_TOL, "one decoder layer (fp32)");
        }
    }

    // ---- whole encoder ---------------------------------------------------------------------------------

    @Test
    void tinyEncoderMatchesReference() throws Exception {
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, TINY, false, DType.FLOAT32, 3)) {
            long[] seq = TinyTokenizer.tokenizer().encode("<|im_start|>user\nA red cat on the mat<|im_end|>");
            assertTrue(seq.length >= 8, "a short but not trivial sequence");
            QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(seq), 0);
            float[] got = run(TINY, store, GraphTarget.CPU_FP32, b);
            double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 1, b.length());
            QwenTextOrtRunner.assertClose(want, got, TINY.hiddenSize(), null, FP32_TOL, "TINY encoder, " + seq.length
                    + " tokens (fp32)");
        }
    }

    @Test
    void tinyEncoderFp16StandardOpsMatchesReference() throws Exception {
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, TINY, false, DType.FLOAT16, 3)) {
            QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(ids(5, 70, 262, 300, 12, 9, 220, 198, 330), ids(7, 8, 9)),
                    TinyTokenizer.tokenizer().padTokenId());
            float[] got = run(TINY, store, GraphTarget.CANN_FP16, b);
            double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 2, b.length());
            QwenTextOrtRunner.assertClose(want, got, TINY.hiddenSize(), b.attentionMask(), FP16_TOL,
                    "TINY encoder, right-padded batch (CANN_FP16 graph on CPU EP)");
        }
    }

    @Test
    void paddedBatchMatchesUnpaddedSequences() throws Exception {
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, TINY, false, DType.FLOAT32, 4)) {
            long[] longSeq = ids(17, 262, 300, 45, 198, 260, 12, 99, 101, 7);
            long[] shortSeq = ids(33, 44, 258, 300, 9, 198);
            float[] aloneLong = run(TINY, store, GraphTarget.CPU_FP32, QwenTextInputs.pad(List.of(longSeq), 0));
            float[] aloneShort = run(TINY, store, GraphTarget.CPU_FP32, QwenTextInputs.pad(List.of(shortSeq), 0));
            QwenTextReference ref = new QwenTextReference(TINY, store);
            int hidden = TINY.hiddenSize();
            for (boolean left : new boolean[] {false, true}) {
                QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(shortSeq, longSeq), 0, left);
                float[] got = run(TINY, store, GraphTarget.CPU_FP32, b);
                for (float f : got) {
                    assertFalse(Float.isNaN(f), "no NaN anywhere, padding rows included");
                }
                String side = left ? "left" : "right";
                QwenTextOrtRunner.assertClose(ref.forward(b.inputIds(), b.attentionMask(), 2, b.length()), got, hidden,
                        b.attentionMask(), FP32_TOL, side + "-padded batch vs reference");
                // Valid rows of each sample equal that sample run alone.
                double[] wantShort = new double[aloneShort.length];
                for (int i = 0; i < wantShort.length; i++) {
                    wantShort[i] = aloneShort[i];
                }
                int offset = left ? longSeq.length - shortSeq.length : 0;
                float[] gotShort = java.util.Arrays.copyOfRange(got, offset * hidden, (offset + shortSeq.length) * hidden);
                QwenTextOrtRunner.assertClose(wantShort, gotShort, hidden, null, FP32_TOL, side
                        + "-padded short sample vs alone");
                double[] wantLong = new double[aloneLong.length];
                for (int i = 0; i < wantLong.length; i++) {
                    wantLong[i] = aloneLong[i];
                }
                float[] gotLong = java.util.Arrays.copyOfRange(got, longSeq.length * hidden, 2 * longSeq.length * hidden);
                QwenTextOrtRunner.assertClose(wantLong, gotLong, hidden, null, FP32_TOL, side + "-padded long sample vs alone");
            }
        }
    }

    @Test
    void newLayoutNamesLoad() throws Exception {
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, TINY, true, DType.FLOAT32, 8)) {
            assertTrue(store.contains("model.language_model.embed_tokens.weight"));
            assertFalse(store.contains("model.embed_tokens.weight"));
            assertEquals(QwenTextEncoder.NEW_PREFIX, QwenTextEncoder.detectPrefix(store));
            QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(ids(1, 2, 3, 262, 198)), 0);
            GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store);
            assertTrue(g.weightNames().stream().allMatch(n -> n.startsWith("model.language_model.")), "new names only");
            float[] got = QwenTextOrtRunner.run(g, store, inputs(b, TINY), 1, b.length(), TINY.hiddenSize());
            double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 1, b.length());
            QwenTextOrtRunner.assertClose(want, got, TINY.hiddenSize(), null, FP32_TOL, "new-layout names (fp32)");
        }
    }

    @Test
    void legacyLayoutUsesEveryWrittenTensorAndNothingElse() {
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, TINY, false, DType.FLOAT32, 1)) {
            assertEquals(QwenTextEncoder.LEGACY_PREFIX, QwenTextEncoder.detectPrefix(store));
            GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store);
            assertEquals(store.names(), new java.util.HashSet<>(g.weightNames()));
            assertEquals(List.of(QwenTextEncoder.INPUT_IDS, QwenTextEncoder.COS, QwenTextEncoder.SIN,
                    QwenTextEncoder.ATTENTION_BIAS), g.inputNames());
            long params = store.names().stream().mapToLong(n -> store.spec(n).elementCount()).sum();
            assertEquals(TINY.parameterCount(), params);
        }
    }

    @Test
    void standardOpsTargetEmitsNoContribOps() {
        try (WeightStore store = QwenTextOrtRunner.randomWeights(dir, TINY, false, DType.FLOAT32, 1)) {
            GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CANN_FP16, store);
            String model = new String(g.toModelBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertFalse(model.contains("com.microsoft"));
        }
    }

    @Test
    void missingWeightsAndWrongShapesAreNamed() throws Exception {
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("visual.patch_embed.proj.weight", DType.FLOAT32, new long[] {1}, new float[] {0});
        Path empty = Files.createDirectories(dir.resolve("empty"));
        w.write(empty.resolve("model.safetensors"));
        try (WeightStore store = WeightStore.open(empty)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store));
            assertTrue(e.getMessage().contains("model.embed_tokens.weight")
                    && e.getMessage().contains("model.language_model.embed_tokens.weight"), e.getMessage());
        }
        // Weights of a wider model do not fit TINY's graph: the error names the tensor.
        QwenTextEncoderConfig wider = new QwenTextEncoderConfig(48, 2, 4, 2, 64, 1e-6, 1e6, TINY.vocabSize(),
                new int[] {2, 2, 2});
        Path other = Files.createDirectories(dir.resolve("wider"));
        try (WeightStore store = QwenTextOrtRunner.randomWeights(other, wider, false, DType.FLOAT32, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store));
            assertTrue(e.getMessage().contains("model.embed_tokens.weight"), e.getMessage());
        }
    }

    // ---- inputs helper ---------------------------------------------------------------------------------

    @Test
    void positionsAreCumsumMinusOneWithOneAtPadding() {
        long[] mask = {0, 0, 1, 1, 1, /* */ 1, 1, 1, 0, 0};
        assertEquals(List.of(1L, 1L, 0L, 1L, 2L, 0L, 1L, 2L, 1L, 1L),
                java.util.Arrays.stream(QwenTextInputs.positions(mask, 2, 5)).boxed().toList());
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
        assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(bias));
        // Right padding: padded queries still see the valid keys before them.
        bias = QwenTextInputs.attentionBias(new long[] {1, 1, 0}, 1, 3);
        want = new float[] {
            0, n, n,
            0, 0, n,
            0, 0, n};
        assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(bias));
    }

    @Test
    void padBuildsIdsAndMasks() {
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(ids(1, 2), ids(3, 4, 5)), 9, false);
        assertEquals(List.of(1L, 2L, 9L, 3L, 4L, 5L), java.util.Arrays.stream(b.inputIds()).boxed().toList());
        assertEquals(List.of(1L, 1L, 0L, 1L, 1L, 1L), java.util.Arrays.stream(b.attentionMask()).boxed().toList());
        b = QwenTextInputs.pad(List.of(ids(1, 2), ids(3, 4, 5)), 9, true);
        assertEquals(List.of(9L, 1L, 2L, 3L, 4L, 5L), java.util.Arrays.stream(b.inputIds()).boxed().toList());
        assertEquals(2, b.validLength(0));
    }
}
