package dev.ditfn.model.text;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.BlockQuantizer;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Both text encoders (Qwen2.5-VL's and Qwen3) with block-quantized linears ({@code dit.quantization.text-encoder}):
 * the graph equals {@link QwenTextReference} computed on the dequantized weights ({@link BlockQuantizer#dequantize})
 * up to fp32 rounding, and differs from the full-precision reference (by more for int4 than int8). The token embedding
 * and the norms stay full precision.
 */
class QuantizedTextEncoderTest {
    /** MatMulNBits at accuracy level 0 computes in fp32 on the dequantized weight: fp32 rounding only. */
    private static final double TOL = QwenTextEncoderTest.FP32_TOL;
    private static final long[] PROMPT = {5, 70, 262, 300, 12, 9, 220, 198, 330};

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("model.safetensors");

    @ParameterizedTest(name = "Qwen2.5-VL int{0} block {1}")
    // random weights, two layers (observed: int8/32 1.0%, int4/32 17%, int8/64 0.4%)
    @CsvSource({"8,32,0.03", "4,32,0.4", "8,64,0.03"})
    void qwen25VlMatchesTheDequantizedReference(int bits, int block, double bound) throws Exception {
        WeightStore store = r.random(DType.FLOAT32, 3, w -> QwenTextEncoderConfig.TINY.writeRandomWeights(w, false))
                .store();
        checkAgainstDequantizedReference(QwenTextEncoderConfig.TINY, store, WeightQuantization.of(bits, block), bound);
    }

    @ParameterizedTest(name = "Qwen3 int{0} block {1}")
    @CsvSource({"8,32,0.03", "4,32,0.4"}) // observed: int8 1.0%, int4 18%
    void qwen3MatchesTheDequantizedReference(int bits, int block, double bound) throws Exception {
        WeightStore store = r.random(DType.FLOAT32, 4, Qwen3TextEncoderConfig.TINY::writeRandomWeights).store();
        checkAgainstDequantizedReference(Qwen3TextEncoderConfig.TINY, store, WeightQuantization.of(bits, block), bound);
    }

    private void checkAgainstDequantizedReference(QwenDecoderConfig c, WeightStore store, WeightQuantization q,
            double bound) throws Exception {
        GraphBuilder g = new QwenTextEncoder(c).build(GraphTarget.CPU_FP32, store, q);
        assertFalse(g.quantizedWeights().isEmpty());
        QwenTextInputs.Batch b = QwenTextInputs.pad(List.of(PROMPT), 0);
        QwenTextInputs.Rope rope = c.rope(b.length());
        float[] got = r.runSingle(g, Map.of(
                QwenTextEncoder.INPUT_IDS, Input.ofLongs(b.inputIds(), 1, b.length()),
                QwenTextEncoder.COS, Input.of(rope.cos(), b.length(), c.headDim()),
                QwenTextEncoder.SIN, Input.of(rope.sin(), b.length(), c.headDim()),
                QwenTextEncoder.ATTENTION_BIAS, Input.of(QwenTextInputs.attentionBias(b.attentionMask(), 1,
                        b.length()), 1, 1, b.length(), b.length())), 1, b.length(), c.hiddenSize());

        Map<String, double[]> dequantized = new HashMap<>();
        for (GraphBuilder.QuantizedWeight w : g.quantizedWeights()) {
            dequantized.put(w.source().name(), d(BlockQuantizer.dequantize(BlockQuantizer.quantize(
                    store.data(w.source().name()), w.source().type(), w.n(), w.k(), q, DType.FLOAT32))));
        }
        double[] reference = new QwenTextReference(c, store).withWeights(dequantized)
                .forward(b.inputIds(), b.attentionMask(), 1, b.length());
        assertClose(reference, got, TOL, q + " encoder vs the reference on dequantized weights");
        double rel = ReferenceMath.relativeL2(new QwenTextReference(c, store)
                .forward(b.inputIds(), b.attentionMask(), 1, b.length()), d(got));
        System.out.printf("%s text encoder %s: relative L2 error vs full precision %.3g%n",
                c.getClass().getSimpleName(), q, rel);
        assertTrue(rel > 0 && rel < bound, "relative error vs full precision " + rel + " not in (0, " + bound + ")");
    }

    @Test
    void everyDecoderLinearIsQuantizedTheEmbeddingAndNormsAreNot() {
        WeightStore store = r.random(DType.FLOAT32, 5, w -> QwenTextEncoderConfig.TINY.writeRandomWeights(w, false))
                .store();
        QwenTextEncoder encoder = new QwenTextEncoder(QwenTextEncoderConfig.TINY);
        GraphBuilder g = encoder.build(GraphTarget.CPU_FP32, store, WeightQuantization.of(8, 32));
        Set<String> quantized = g.quantizedWeights().stream().map(w -> w.source().name()).collect(Collectors.toSet());
        Set<String> expected = new HashSet<>();
        for (int layer = 0; layer < QwenTextEncoderConfig.TINY.layersBuilt(); layer++) {
            for (String linear : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                    "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                expected.add("model.layers." + layer + "." + linear + ".weight");
            }
        }
        assertEquals(expected, quantized);
        assertTrue(g.weightNames().contains("model.embed_tokens.weight"));
        assertTrue(g.weightNames().contains("model.norm.weight"));
        assertTrue(g.weightNames().contains("model.layers.0.self_attn.q_proj.bias"));

        GraphBuilder edit = encoder.buildWithImages(GraphTarget.CPU_FP32, store, WeightQuantization.of(8, 32));
        assertEquals(quantized, edit.quantizedWeights().stream().map(w -> w.source().name())
                .collect(Collectors.toSet()), "the edit pipeline's encoder quantizes the same linears");
    }

    @Test
    void theEmbeddingIsKeptUnderTheNewTensorNamesToo() {
        WeightStore store = r.random(DType.FLOAT32, 6, w -> QwenTextEncoderConfig.TINY.writeRandomWeights(w, true))
                .store();
        GraphBuilder g = new QwenTextEncoder(QwenTextEncoderConfig.TINY).build(GraphTarget.CPU_FP32, store,
                WeightQuantization.of(4, 32));
        assertTrue(g.weightNames().contains("model.language_model.embed_tokens.weight"));
        g.toModelBytes(); // a quantized embedding would be refused here (gathered, not a linear)
    }

    @Test
    void aCannTargetRefusesAQuantizedTextEncoder() {
        WeightStore store = r.random(DType.FLOAT16, 7, Qwen3TextEncoderConfig.TINY::writeRandomWeights).store();
        var e = assertThrows(IllegalArgumentException.class, () -> new QwenTextEncoder(Qwen3TextEncoderConfig.TINY)
                .build(GraphTarget.CANN_FP16, store, WeightQuantization.of(8, 32)));
        assertTrue(e.getMessage().contains("MatMulNBits") && e.getMessage().contains("dit.quantization.text-encoder"),
                e.getMessage());
    }
}
