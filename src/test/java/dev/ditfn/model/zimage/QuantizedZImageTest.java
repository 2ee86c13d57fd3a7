package dev.ditfn.model.zimage;

import ai.onnxruntime.OnnxTensor;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.ditfn.testing.ReferenceMath.d;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Z-Image DiT with block-quantized linears against fp32 (its pad tokens and final layer stay full precision). */
class QuantizedZImageTest {

    @ParameterizedTest(name = "int{0} block {1}")
    // random weights (observed: int8 1.1%, int4 24%; Z-Image's unnormalised random model amplifies more than Qwen-Image's)
    @CsvSource({"8,32,0.03", "4,32,0.4"})
    void quantizedOutputStaysCloseToFp32(int bits, int block, double bound, @TempDir Path dir) throws Exception {
        ZImageTransformerConfig config = SegmentedZImageTest.CONFIG;
        OrtRuntime runtime = CpuRuntime.shared();
        try (var f = SegmentedZImageTest.Fixture.open(dir, runtime)) {
            WeightStore store = f.runner().store();
            Map<String, OnnxTensor> inputs = f.inputs();
            try (SegmentedTransformer full = new SegmentedTransformer(runtime, new ZImageTransformer(config), store,
                    new SegmentPartition(4, List.of(2)));
                    SegmentedTransformer quantized = new SegmentedTransformer(runtime, new ZImageTransformer(config),
                            store, new SegmentPartition(4, List.of(2)), WeightQuantization.of(bits, block));
                    TransformerPass a = full.pass(inputs);
                    TransformerPass b = quantized.pass(inputs)) {
                float[] expected = a.forward();
                float[] actual = b.forward();
                double rel = ReferenceMath.relativeL2(d(expected), d(actual));
                System.out.printf("Z-Image tiny transformer int%d/%d: relative L2 error %.4g%n", bits, block, rel);
                assertTrue(rel > 0 && rel < bound, "relative error " + rel + " not in (0, " + bound + ")");
            }
        }
    }
}
