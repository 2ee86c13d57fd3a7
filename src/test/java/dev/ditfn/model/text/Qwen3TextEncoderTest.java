package dev.ditfn.model.text;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

/**
 * The Qwen3 variant of the {@link QwenTextEncoder} graph (Z-Image's text encoder: no q/k/v biases, per-head q/k
 * RMSNorm before RoPE, explicit head_dim, output {@code hidden_states[-2]} without the final norm) against
 * {@link QwenTextReference} in double precision, on ORT's CPU provider, with the tolerances of
 * {@link QwenTextEncoderTest}. The "wrong way" tests show each Qwen3 difference matters: the graph's output is far
 * (more than {@value #WRONG_BY}) from the reference computed without the q/k norm, with it after RoPE, with the final
 * norm, or from the last layer.
 */
class Qwen3TextEncoderTest {
    static final double FP32_TOL = QwenTextEncoderTest.FP32_TOL;
    static final double FP16_TOL = QwenTextEncoderTest.FP16_TOL;
    /** How far a wrongly computed reference must be from the graph (errors of a right one are ~1e-6). */
    static final double WRONG_BY = 1e-2;
    static final Qwen3TextEncoderConfig TINY = Qwen3TextEncoderConfig.TINY;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("model.safetensors");

    private WeightStore randomWeights(DType type, long seed) {
        return r.random(type, seed, TINY::writeRandomWeights).store();
    }

    private static Map<String, Input> inputs(QwenTextInputs.Batch batch) {
        int hd = TINY.headDim();
        QwenTextInputs.Rope rope = TINY.rope(batch.length());
        return Map.of(
                QwenTextEncoder.INPUT_IDS, Input.ofLongs(batch.inputIds(), batch.batch(), batch.length()),
                QwenTextEncoder.COS, Input.of(rope.cos(), batch.length(), hd),
                QwenTextEncoder.SIN, Input.of(rope.sin(), batch.length(), hd),
                QwenTextEncoder.ATTENTION_BIAS, Input.of(QwenTextInputs.attentionBias(batch.attentionMask(),
                        batch.batch(), batch.length()), batch.batch(), 1, batch.length(), batch.length()));
    }

    private float[] run(GraphTarget target, WeightStore store, QwenTextInputs.Batch batch) throws Exception {
        GraphBuilder g = new QwenTextEncoder(TINY).build(target, store);
        return r.runSingle(g, inputs(batch), batch.batch(), batch.length(), TINY.hiddenSize());
    }

    private static IntPredicate validRows(QwenTextInputs.Batch batch) {
        return i -> batch.attentionMask()[i / TINY.hiddenSize()] != 0;
    }

    private static double maxAbsDiff(double[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    private static void assertFarFrom(double[] wrong, float[] got, String what) {
        double diff = maxAbsDiff(wrong, got);
        System.out.printf("%s: max |diff| %.3e from the graph%n", what, diff);
        assertTrue(diff > WRONG_BY, what + " would be caught: max |diff| " + diff + " > " + WRONG_BY);
    }

    private static QwenTextInputs.Batch prompt() {
        long[] seq = PromptTemplate.Z_IMAGE.templateIds(TinyTokenizer.tokenizer(), "A red cat on the mat");
        assertTrue(seq.length >= 8, "a short but not trivial sequence");
        return QwenTextInputs.pad(List.of(seq), 0);
    }

    // ---- one decoder layer -----------------------------------------------------------------------------

    @Test
    void oneDecoderLayerMatchesReferenceAndNeedsItsQkNormBeforeRope() throws Exception {
        WeightStore store = randomWeights(DType.FLOAT32, 11);
        int batch = 2;
        int len = 6;
        int hidden = TINY.hiddenSize();
        int hd = TINY.headDim();
        float[] x = normal(new Random(5), batch * len * hidden);
        GraphBuilder g = new GraphBuilder("layer", GraphTarget.CPU_FP32, store);
        Value y = new QwenTextEncoder(TINY).decoderLayer(g, "model.layers.1.",
                g.input("h", DType.FLOAT32, "batch", "seq", hidden), g.input("cos", DType.FLOAT32, "seq", hd),
                g.input("sin", DType.FLOAT32, "seq", hd), g.input("bias", DType.FLOAT32, "batch", 1, "seq", "seq"));
        g.output(y, "out", DType.FLOAT32, "batch", "seq", hidden);
        long[] mask = new long[batch * len];
        Arrays.fill(mask, 1);
        QwenTextInputs.Rope rope = TINY.rope(len);
        float[] got = r.runSingle(g, Map.of("h", Input.of(x, batch, len, hidden),
                "cos", Input.of(rope.cos(), len, hd), "sin", Input.of(rope.sin(), len, hd),
                "bias", Input.of(QwenTextInputs.attentionBias(mask, batch, len), batch, 1, len, len)),
                batch, len, hidden);
        assertEquals(Set.of("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight", "q_norm.weight",
                "k_norm.weight"), g.weightNames().stream().filter(n -> n.contains("self_attn."))
                .map(n -> n.substring(n.indexOf("self_attn.") + 10)).collect(Collectors.toSet()),
                "no projection biases; q/k norms");

        long[] pos = QwenTextInputs.positions(mask, batch, len);
        double[] causal = QwenTextReference.causal(batch, len);
        String layer = "model.layers.1.";
        assertClose(new QwenTextReference(TINY, store).layer(d(x), batch, len, pos, causal, layer), got, FP32_TOL,
                "one Qwen3 decoder layer (fp32)");
        assertFarFrom(new QwenTextReference(TINY, store).withQkNorm(false).layer(d(x), batch, len, pos, causal,
                layer), got, "skipping q_norm/k_norm");
        assertFarFrom(new QwenTextReference(TINY, store).withQkNormAfterRope().layer(d(x), batch, len, pos, causal,
                layer), got, "applying q_norm/k_norm after RoPE");
    }

    // ---- whole encoder ---------------------------------------------------------------------------------

    @Test
    void tinyEncoderGivesThePenultimateHiddenStateWithoutTheFinalNorm() throws Exception {
        WeightStore store = randomWeights(DType.FLOAT32, 3);
        QwenTextInputs.Batch b = prompt();
        float[] got = run(GraphTarget.CPU_FP32, store, b);
        long[] ids = b.inputIds();
        long[] mask = b.attentionMask();
        int len = b.length();
        int n = TINY.numHiddenLayers();
        assertClose(new QwenTextReference(TINY, store).forward(ids, mask, 1, len), got, FP32_TOL,
                "TINY Qwen3 encoder = hidden_states[-2], " + len + " tokens (fp32)");
        // hidden_states[-2] is out(layer n-2), raw: not normed, not the last layer, not without the q/k norms.
        assertFarFrom(new QwenTextReference(TINY, store).withOutput(n - 1, true).forward(ids, mask, 1, len), got,
                "applying the final norm to hidden_states[-2]");
        assertFarFrom(new QwenTextReference(TINY, store).withOutput(n, false).forward(ids, mask, 1, len), got,
                "the last layer's raw output");
        assertFarFrom(new QwenTextReference(TINY, store).withOutput(n, true).forward(ids, mask, 1, len), got,
                "hidden_states[-1] (last_hidden_state)");
        assertFarFrom(new QwenTextReference(TINY, store).withQkNorm(false).forward(ids, mask, 1, len), got,
                "skipping q_norm/k_norm");
    }

    @Test
    void paddedBatchMatchesReferenceAndEachSampleAlone() throws Exception {
        WeightStore store = randomWeights(DType.FLOAT32, 4);
        long[] longSeq = {17, 262, 300, 45, 198, 260, 12, 99, 101, 7};
        long[] shortSeq = {33, 44, 258, 300, 9, 198};
        float[] aloneLong = run(GraphTarget.CPU_FP32, store, QwenTextInputs.pad(List.of(longSeq), 0));
        float[] aloneShort = run(GraphTarget.CPU_FP32, store, QwenTextInputs.pad(List.of(shortSeq), 0));
        QwenTextReference ref = new QwenTextReference(TINY, store);
        int hidden = TINY.hiddenSize();
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(shortSeq, longSeq), 0);
        float[] got = run(GraphTarget.CPU_FP32, store, b);
        for (float f : got) {
            assertFalse(Float.isNaN(f), "no NaN anywhere, padding rows included");
        }
        assertClose(ref.forward(b.inputIds(), b.attentionMask(), 2, b.length()), got, FP32_TOL, FP32_TOL,
                validRows(b), "right-padded Qwen3 batch vs reference");
        assertClose(d(aloneShort), Arrays.copyOf(got, shortSeq.length * hidden), FP32_TOL, "short sample vs alone");
        assertClose(d(aloneLong), Arrays.copyOfRange(got, longSeq.length * hidden, 2 * longSeq.length * hidden),
                FP32_TOL, "long sample vs alone");
    }

    @Test
    void tinyEncoderFp16StandardOpsMatchesReference() throws Exception {
        WeightStore store = randomWeights(DType.FLOAT16, 3);
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(new long[] {5, 70, 262, 300, 12, 9, 220, 198, 330},
                new long[] {7, 8, 9}), TinyTokenizer.tokenizer().padTokenId());
        float[] got = run(GraphTarget.CANN_FP16, store, b);
        double[] want = new QwenTextReference(TINY, store).forward(b.inputIds(), b.attentionMask(), 2, b.length());
        assertClose(want, got, FP16_TOL, FP16_TOL, validRows(b),
                "TINY Qwen3 encoder, right-padded batch (CANN_FP16 graph on CPU EP)");
        String model = new String(new QwenTextEncoder(TINY).build(GraphTarget.CANN_FP16, store).toModelBytes(),
                StandardCharsets.ISO_8859_1);
        assertFalse(model.contains("com.microsoft"), "standard ops only");
    }

    @Test
    void readsAllButTheLastLayerAndTheFinalNorm() {
        WeightStore store = randomWeights(DType.FLOAT32, 1);
        assertFalse(store.contains("lm_head.weight"), "tied embeddings: no lm_head");
        assertTrue(store.contains("model.norm.weight") && store.contains("model.layers.2.self_attn.q_norm.weight"),
                "the checkpoint has every tensor");
        GraphBuilder g = new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store);
        Set<String> unread = new HashSet<>(store.names());
        unread.removeAll(g.weightNames());
        assertEquals(Set.of("model.norm.weight"), unread.stream().filter(n -> !n.startsWith("model.layers.2."))
                .collect(Collectors.toSet()));
        assertEquals(store.names().stream().filter(n -> n.startsWith("model.layers.2.")).collect(Collectors.toSet()),
                unread.stream().filter(n -> n.startsWith("model.layers.2.")).collect(Collectors.toSet()),
                "the last layer is not built");
        assertEquals(List.of(QwenTextEncoder.INPUT_IDS, QwenTextEncoder.COS, QwenTextEncoder.SIN,
                QwenTextEncoder.ATTENTION_BIAS), g.inputNames());
        long params = g.weightNames().stream().mapToLong(n -> store.spec(n).elementCount()).sum();
        assertEquals(TINY.parameterCount(), params);
        long all = store.names().stream().mapToLong(n -> store.spec(n).elementCount()).sum();
        assertEquals(TINY.parameterCount() + TINY.parametersPerLayer() + TINY.hiddenSize(), all);
    }
}
