package dev.ditfn.onnx;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.BlockQuantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;

/**
 * A linear over a quantized weight runs as com.microsoft:MatMulNBits (ORT's CPU kernel) and equals the fp32 linear
 * over the dequantized weight ({@link BlockQuantizer#dequantize}) up to fp32 rounding.
 */
class QuantizedLinearTest {
    @RegisterExtension
    final GraphRunner h = GraphRunner.temporary("w.safetensors");

    @ParameterizedTest(name = "int{0} block {1} K={2} N={3}")
    @CsvSource({"4,32,64,48", "4,64,128,16", "4,128,256,40", "8,32,64,48", "8,64,192,24", "8,128,128,8",
            "4,32,80,16", "8,32,80,16"})
    void matchesTheDequantizedReference(int bits, int block, int k, int n) throws Exception {
        Random rnd = new Random(bits * 31 + k);
        int m = 2 * 7;
        float[] x = uniform(rnd, m * k, -1, 1);
        float[] w = uniform(rnd, n * k, -0.5f, 0.5f);
        float[] b = uniform(rnd, n, -1, 1);
        h.weight("lin.weight", new long[] {n, k}, w).weight("lin.bias", new long[] {n}, b);
        WeightQuantization q = WeightQuantization.of(bits, block);
        GraphBuilder g = new GraphBuilder("t", GraphTarget.CPU_FP32, h.store(), q);
        Value y = new Layers(g).linear(g.input("x", g.act(), 2, 7, k), g.weight("lin.weight", n, k),
                g.weight("lin.bias", n));
        g.output(y, "y", g.act(), 2, 7, n);
        assertEquals(1, g.quantizedWeights().size());
        assertEquals(java.util.List.of("lin.bias"), g.weightNames(), "the fp32 weight is not declared");
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, 2, 7, k)), 2, 7, n);

        float[] dq = BlockQuantizer.dequantize(BlockQuantizer.quantize(f32(w), DType.FLOAT32, n, k, q,
                DType.FLOAT32));
        double[] expected = ReferenceMath.linear(d(x), d(dq), d(b), m, k, n);
        assertClose(expected, out, 1e-4, "MatMulNBits vs dequantized fp32");
        double[] exact = ReferenceMath.linear(d(x), d(w), d(b), m, k, n);
        double rel = ReferenceMath.relativeL2(exact, d(out));
        // uniform weights: int8 steps are 1/127 of a block's max, int4 steps 1/7 (observed ~0.3% and ~5%)
        assertTrue(rel > 0 && rel < (bits == 8 ? 0.01 : 0.1), "relative error vs the fp32 weight: " + rel);
        System.out.printf("int%d/%d K=%d: relative error vs fp32 weight %.3g%n", bits, block, k, rel);
    }

    /** accuracy_level 4: the CPU kernel quantizes the activations to int8 per block as well, so only close. */
    @ParameterizedTest(name = "int{0} block {1}, accuracy_level 4")
    @CsvSource({"4,32", "8,32", "8,128"})
    void accuracyLevelFourIsCloseToTheDequantizedReference(int bits, int block) throws Exception {
        Random rnd = new Random(bits * 7 + block);
        int m = 16;
        int k = 256;
        int n = 32;
        float[] x = uniform(rnd, m * k, -1, 1);
        float[] w = uniform(rnd, n * k, -0.5f, 0.5f);
        h.weight("lin.weight", new long[] {n, k}, w);
        WeightQuantization q = WeightQuantization.of(bits, block).withAccuracyLevel(4);
        GraphBuilder g = new GraphBuilder("t", GraphTarget.CPU_FP32, h.store(), q);
        g.output(new Layers(g).linear(g.input("x", g.act(), m, k), g.weight("lin.weight", n, k), null), "y", g.act(),
                m, n);
        float[] out = h.runSingle(g, Map.of("x", Input.of(x, m, k)), m, n);
        float[] dq = BlockQuantizer.dequantize(BlockQuantizer.quantize(f32(w), DType.FLOAT32, n, k, q,
                DType.FLOAT32));
        double[] expected = ReferenceMath.linear(d(x), d(dq), null, m, k, n);
        double rel = ReferenceMath.relativeL2(expected, d(out));
        System.out.printf("int%d/%d accuracy_level 4 vs dequantized fp32: relative error %.3g%n", bits, block, rel);
        assertTrue(rel < 0.02, "relative error " + rel);
    }

    /** With {@code dit.prepack-weights=false} ORT computes MatMulNBits from the blobs as supplied: same result. */
    @Test
    void withoutPrepackingTheResultIsTheSame() throws Exception {
        Random rnd = new Random(3);
        float[] x = uniform(rnd, 4 * 64, -1, 1);
        h.weight("lin.weight", new long[] {8, 64}, uniform(rnd, 8 * 64, -0.5f, 0.5f));
        WeightQuantization q = WeightQuantization.of(4, 32);
        float[][] outs = new float[2][];
        for (boolean prepack : new boolean[] {true, false}) {
            GraphBuilder g = new GraphBuilder("t", GraphTarget.CPU_FP32, h.store(), q);
            g.output(new Layers(g).linear(g.input("x", g.act(), 4, 64), g.weight("lin.weight", 8, 64), null), "y",
                    g.act(), 4, 8);
            try (var s = dev.ditfn.testing.CpuRuntime.create(prepack).createSession(g, h.store())) {
                outs[prepack ? 0 : 1] = h.run(s, Map.of("x", Input.of(x, 4, 64))).get("y").values();
            }
        }
        assertClose(d(outs[0]), outs[1], 1e-5, "prepacked vs not");
    }

    @Test
    void smallOrKeptWeightsStayFullPrecision() {
        h.weight("a.weight", new long[] {8, 16}, new float[8 * 16]).weight("b.weight", new long[] {8, 64},
                new float[8 * 64]).weight("c.weight", new long[] {8, 64}, new float[8 * 64]);
        GraphBuilder g = new GraphBuilder("t", GraphTarget.CPU_FP32, h.store(),
                WeightQuantization.of(4, 32).keeping("c."));
        Layers nn = new Layers(g);
        Value x = g.input("x", g.act(), 1, 64);
        nn.linear(x, g.weight("b.weight", 8, 64), null);
        nn.linear(x, g.weight("c.weight", 8, 64), null);
        nn.linear(g.input("x16", g.act(), 1, 16), g.weight("a.weight", 8, 16), null);
        assertEquals(java.util.List.of("c.weight", "a.weight"), g.weightNames());
        assertEquals("b.weight", g.quantizedWeights().get(0).source().name());
    }

    @Test
    void aQuantizedWeightOutsideALinearIsRefused() {
        h.weight("b.weight", new long[] {8, 64}, new float[8 * 64]);
        GraphBuilder g = new GraphBuilder("t", GraphTarget.CPU_FP32, h.store(), WeightQuantization.of(8, 32));
        g.output(g.add(g.input("x", g.act(), 8, 64), g.weight("b.weight", 8, 64)), "y", g.act(), 8, 64);
        var e = assertThrows(IllegalStateException.class, g::toModelBytes);
        assertTrue(e.getMessage().contains("b.weight"), e.getMessage());
    }

    @Test
    void cannTargetsRefuseQuantization() {
        var e = assertThrows(IllegalArgumentException.class, () -> new GraphBuilder("t", GraphTarget.CANN_FP16,
                h.store(), WeightQuantization.of(4, 32)));
        assertTrue(e.getMessage().contains("dit.quantization"), e.getMessage());
        new GraphBuilder("t", GraphTarget.CANN_FP16, h.store(), WeightQuantization.NONE);
    }

    private static ByteBuffer f32(float[] w) {
        ByteBuffer b = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : w) {
            b.putFloat(v);
        }
        return b.flip();
    }
}
