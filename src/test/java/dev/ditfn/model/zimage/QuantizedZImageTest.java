package dev.ditfn.model.zimage;

import ai.onnxruntime.OnnxTensor;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.TestData;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Z-Image DiT with block-quantized linears against fp32 (its pad tokens and final layer stay full precision). */
class QuantizedZImageTest {

    @ParameterizedTest(name = "int{0} block {1}")
    // random weights (observed: int8 1.1%, int4 24%; Z-Image's unnormalised random model amplifies more than Qwen-Image's)
    @CsvSource({"8,32,0.03", "4,32,0.4"})
    void quantizedOutputStaysCloseToFp32(int bits, int block, double bound, @TempDir Path dir) throws Exception {
        ZImageTransformerConfig config = SegmentedZImageTest.CONFIG;
        OrtRuntime runtime = CpuRuntime.shared();
        Random rnd = new Random(1);
        ZImageSequence seq = new ZImageSequence(16, 8, 6, 5);
        try (GraphRunner runner = new GraphRunner(dir, "diffusion_pytorch_model.safetensors")
                .random(DType.FLOAT32, 5, config::writeRandomWeights);
                var cond = new ZImageConditioning(runtime.env(), DType.FLOAT32, new ZImageRope(config), seq,
                        TestData.normal(rnd, 5 * 24), 24);
                OnnxTensor patches = Tensors.of(runtime.env(), DType.FLOAT32,
                        seq.patchify(TestData.normal(rnd, 16 * 8 * 6)), 1, seq.paddedImageTokens(), 64);
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.3f}, 1)) {
            WeightStore store = runner.store();
            Map<String, OnnxTensor> inputs = cond.with(patches, timestep);
            try (SegmentedTransformer full = new SegmentedTransformer(runtime, new ZImageTransformer(config), store,
                    new SegmentPartition(4, List.of(2)));
                    SegmentedTransformer quantized = new SegmentedTransformer(runtime, new ZImageTransformer(config),
                            store, new SegmentPartition(4, List.of(2)), WeightQuantization.of(bits, block));
                    TransformerPass a = full.pass(inputs);
                    TransformerPass b = quantized.pass(inputs)) {
                float[] expected = a.forward();
                float[] actual = b.forward();
                double diff = 0;
                double norm = 0;
                for (int i = 0; i < expected.length; i++) {
                    diff += (expected[i] - actual[i]) * (double) (expected[i] - actual[i]);
                    norm += expected[i] * (double) expected[i];
                }
                double rel = Math.sqrt(diff / norm);
                System.out.printf("Z-Image tiny transformer int%d/%d: relative L2 error %.4g%n", bits, block, rel);
                assertTrue(rel > 0 && rel < bound, "relative error " + rel + " not in (0, " + bound + ")");
            }
        }
    }
}
