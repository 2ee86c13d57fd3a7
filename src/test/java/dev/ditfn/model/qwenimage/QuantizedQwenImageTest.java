package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Qwen-Image DiT with block-quantized linears (MatMulNBits) against the same weights in fp32: close, not equal,
 * with int8 an order of magnitude closer than int4; embedders and the final layer stay full precision.
 */
class QuantizedQwenImageTest {
    private static final QwenImageTransformerConfig CONFIG = new QwenImageTransformerConfig(2, 64, 16, 4, 32, 2, 32,
            new int[] {8, 12, 12});

    @ParameterizedTest(name = "int{0} block {1}")
    @CsvSource({"8,32,0.01", "8,64,0.01", "4,32,0.1", "4,128,0.1"})
    void quantizedVelocityStaysCloseToFp32(int bits, int block, double bound, @TempDir Path dir) throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        Random rnd = new Random(1);
        int h2 = 4;
        int w2 = 3;
        int textLen = 6;
        float[] latents = QwenTestModel.normal(rnd, h2 * w2 * 64);
        float[] prompt = QwenTestModel.normal(rnd, textLen * 32);
        try (QwenTestModel model = new QwenTestModel(dir, CONFIG, 5);
                var cond = new QwenImageConditioning(runtime.env(), DType.FLOAT32, CONFIG, prompt, textLen, h2, w2);
                OnnxTensor hidden = Tensors.of(runtime.env(), DType.FLOAT32, latents, 1, h2 * w2, 64);
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.7f}, 1);
                SegmentedTransformer full = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG),
                        model.store, new SegmentPartition(4, List.of(1, 3)));
                SegmentedTransformer quantized = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG),
                        model.store, new SegmentPartition(4, List.of(1, 3)), WeightQuantization.of(bits, block));
                TransformerPass a = full.pass(cond.with(hidden, timestep));
                TransformerPass b = quantized.pass(cond.with(hidden, timestep))) {
            float[] expected = a.forward();
            float[] actual = b.forward();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < expected.length; i++) {
                diff += (expected[i] - actual[i]) * (double) (expected[i] - actual[i]);
                norm += expected[i] * (double) expected[i];
            }
            double rel = Math.sqrt(diff / norm);
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
