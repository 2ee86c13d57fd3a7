package dev.ditfn.model.qwenimage;

import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.ReferenceMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static dev.ditfn.testing.ReferenceMath.d;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Qwen-Image DiT with block-quantized linears (MatMulNBits) against the same weights in fp32: close, not equal,
 * with int8 an order of magnitude closer than int4; embedders and the final layer stay full precision.
 */
class QuantizedQwenImageTest {
    private static final QwenImageTransformerConfig CONFIG = SegmentedQwenImageTest.CONFIG;

    @ParameterizedTest(name = "int{0} block {1}")
    @CsvSource({"8,32,0.01", "8,64,0.01", "4,32,0.1", "4,128,0.1"})
    void quantizedVelocityStaysCloseToFp32(int bits, int block, double bound, @TempDir Path dir) throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        try (var f = SegmentedQwenImageTest.Fixture.open(dir, runtime);
                SegmentedTransformer full = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG),
                        f.model().store, new SegmentPartition(4, List.of(1, 3)));
                SegmentedTransformer quantized = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG),
                        f.model().store, new SegmentPartition(4, List.of(1, 3)), WeightQuantization.of(bits, block));
                TransformerPass a = full.pass(f.inputs());
                TransformerPass b = quantized.pass(f.inputs())) {
            float[] expected = a.forward();
            float[] actual = b.forward();
            double rel = ReferenceMath.relativeL2(d(expected), d(actual));
            System.out.printf("Qwen-Image tiny transformer int%d/%d: relative L2 error of the velocity %.4g%n", bits,
                    block, rel);
            assertTrue(rel > 0, "quantization changes the output");
            assertTrue(rel < bound, "relative error " + rel + " above " + bound);
        }
    }

    @Test
    void blockLinearsAreQuantizedEmbeddersAndFinalLayerAreNot(@TempDir Path dir) {
        try (QwenTestModel model = new QwenTestModel(dir, CONFIG, 5)) {
            QwenImageTransformer graphs = new QwenImageTransformer(CONFIG);
            Set<String> quantized = new HashSet<>();
            Set<String> full = new HashSet<>();
            for (TransformerSegment s : new SegmentPartition(4, List.of(1, 3)).segments()) {
                GraphBuilder g = graphs.build(GraphTarget.CPU_FP32, model.store, s, WeightQuantization.of(4, 32));
                g.quantizedWeights().forEach(q -> assertTrue(quantized.add(q.source().name())));
                full.addAll(g.weightNames());
            }
            Set<String> all = new HashSet<>(quantized);
            all.addAll(full);
            assertEquals(model.store.names(), all, "every weight is used, quantized or not");
            assertTrue(quantized.contains("transformer_blocks.0.attn.to_q.weight"));
            assertTrue(quantized.contains("transformer_blocks.3.img_mlp.net.2.weight"));
            assertTrue(quantized.contains("txt_in.weight"));
            for (String kept : List.of("img_in.weight", "proj_out.weight", "norm_out.linear.weight",
                    "time_text_embed.timestep_embedder.linear_1.weight")) {
                assertTrue(full.contains(kept), kept);
                assertFalse(quantized.contains(kept), kept);
            }
            assertTrue(quantized.stream().allMatch(n -> n.endsWith(".weight")));
        }
    }

    @Test
    void aCannTargetRefusesQuantizedWeights(@TempDir Path dir) {
        try (QwenTestModel model = new QwenTestModel(dir, CONFIG, 5)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new QwenImageTransformer(CONFIG).build(
                    GraphTarget.CANN_FP16, model.store, TransformerSegment.whole(4), WeightQuantization.of(8, 32)));
            assertTrue(e.getMessage().contains("MatMulNBits") && e.getMessage().contains("CANN_FP16"), e.getMessage());
        }
    }
}
