package dev.ditfn.onnx;

import static dev.ditfn.testing.AssertClose.FP32_TOL;
import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.roundTo;
import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.ReferenceMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.Random;

/** How GraphBuilder declares weights: shape checks, missing names, casts of stored types, contrib-op gating. */
class WeightDeclarationTest {
    @RegisterExtension
    final GraphRunner h = GraphRunner.temporary("w.safetensors");
    private final Random rnd = new Random(1234);

    @Test
    void shapeMismatchNamesTensorAndFile() {
        h.weight("blocks.0.attn.qkv.weight", new long[] {6, 4}, new float[24]);
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        RuntimeException e = assertThrows(RuntimeException.class, () -> g.weight("blocks.0.attn.qkv.weight", 4, 6));
        String msg = e.getMessage();
        assertTrue(msg.contains("blocks.0.attn.qkv.weight"), msg);
        assertTrue(msg.contains(h.file().toString()), msg);
        assertTrue(msg.contains("[6, 4]") && msg.contains("[4, 6]"), "names both shapes: " + msg);
        assertTrue(g.weightNames().isEmpty(), "a rejected weight is not declared");
    }

    @Test
    void rankMismatchIsAShapeMismatch() {
        h.weight("bias", new long[] {4}, new float[4]);
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        RuntimeException e = assertThrows(RuntimeException.class, () -> g.weight("bias", 1, 4));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
    }

    @Test
    void missingWeightNamesTensor() {
        h.weight("present", new long[] {2}, new float[2]);
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        assertFalse(g.hasWeight("final_layer.linear.weight"));
        assertTrue(g.hasWeight("present"));
        RuntimeException e = assertThrows(RuntimeException.class, () -> g.weight("final_layer.linear.weight", 2));
        assertTrue(e.getMessage().contains("final_layer.linear.weight"), e.getMessage());
    }

    @Test
    void weightUsedTwiceIsDeclaredOnce() throws Exception {
        float[] w = uniform(rnd, 3, -1, 1);
        float[] x = uniform(rnd, 2 * 3, -1, 1);
        h.weight("w", new long[] {3}, w);
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        Value xi = g.input("x", DType.FLOAT32, 2, 3);
        Value a = g.weight("w", 3);
        Value b = g.weight("w", 3);
        assertEquals(a, b);
        g.output(g.add(g.mul(xi, a), b), "y", DType.FLOAT32, 2, 3);
        assertEquals(List.of("w"), g.weightNames());
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 2, 3)), 2, 3);
        double[] expected = new double[6];
        for (int i = 0; i < 6; i++) {
            expected[i] = (double) x[i] * w[i % 3] + w[i % 3];
        }
        assertClose(expected, y, FP32_TOL, "x*w + w");
    }

    /** A weight stored in bf16 or fp16 is cast to fp32 in an fp32 graph; results match the rounded weights. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void halfStoredWeightIsCastInFp32Graph(DType stored) throws Exception {
        float[] w = uniform(rnd, 4 * 5, -1, 1);
        float[] b = uniform(rnd, 4, -1, 1);
        float[] x = uniform(rnd, 3 * 5, -1, 1);
        h.weight("lin.weight", stored, new long[] {4, 5}, w).weight("lin.bias", stored, new long[] {4}, b);
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        Value wv = g.weight("lin.weight", 4, 5);
        assertNotEquals("lin.weight", wv.name(), "a Cast node sits between the initializer and its use");
        assertEquals(g.weight("lin.weight", 4, 5), wv, "the cast is emitted once per weight");
        g.output(new Layers(g).linear(g.input("x", DType.FLOAT32, 3, 5), wv, g.weight("lin.bias", 4)), "y",
                DType.FLOAT32, 3, 4);
        float[] y = h.runSingle(g, Map.of("x", Input.of(x, 3, 5)), 3, 4);
        float[] wr = roundTo(stored, w);
        float[] br = roundTo(stored, b);
        if (stored == DType.BFLOAT16) {
            // the rounding the brief asks for, spelled out: through bf16 bits and back
            assertEquals(Fp16Conversions.bf16ToFloat(Fp16Conversions.floatToBf16(w[0])), wr[0]);
        }
        assertClose(ReferenceMath.linear(d(x), d(wr), d(br), 3, 5, 4), y, FP32_TOL, "linear with " + stored);
        // and the rounding matters: unrounded weights give a measurably different answer
        double[] unrounded = ReferenceMath.linear(d(x), d(w), d(b), 3, 5, 4);
        double diff = 0;
        for (int i = 0; i < y.length; i++) {
            diff = Math.max(diff, Math.abs(unrounded[i] - y[i]));
        }
        assertTrue(diff > FP32_TOL, "weights were " + stored + "-rounded (max diff " + diff + ")");
    }

    @Test
    void contribOpRejectedOnCann() {
        GraphBuilder g = h.graph(GraphTarget.CANN_FP16);
        Value x = g.input("x", DType.FLOAT16, 2, 3);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> g.contribOp("MultiHeadAttention", List.of(x, x, x)));
        assertTrue(e.getMessage().contains("MultiHeadAttention") && e.getMessage().contains("CANN_FP16"),
                e.getMessage());
    }

    @Test
    void contribOpAllowedOnCpu() {
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        Value x = g.input("x", DType.FLOAT32, 2, 3);
        int before = g.nodeCount();
        g.contribOp("FastGelu", List.of(x));
        assertEquals(before + 1, g.nodeCount());
    }

    @Test
    void attentionOnCannEmitsNoContribOp() throws Exception {
        GraphBuilder g = h.graph(GraphTarget.CANN_FP16);
        Value x = g.input("x", DType.FLOAT16, 1, 2, 8);
        new Layers(g).attention(x, x, x, 2, 1, 4, null);
        ModelProto m = ModelProto.parseFrom(g.toModelBytes());
        assertTrue(m.getGraph().getNodeCount() > 0);
        assertTrue(m.getGraph().getNodeList().stream().allMatch(n -> n.getDomain().isEmpty()),
                "only default-domain ops on CANN");
        assertTrue(m.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals("com.microsoft")));
    }

    @Test
    void attentionOnCpuEmitsMultiHeadAttention() throws Exception {
        GraphBuilder g = h.graph(GraphTarget.CPU_FP32);
        Value x = g.input("x", DType.FLOAT32, 1, 2, 8);
        new Layers(g).attention(x, x, x, 2, 2, 4, null);
        ModelProto m = ModelProto.parseFrom(g.toModelBytes());
        assertTrue(m.getGraph().getNodeList().stream()
                .anyMatch(n -> n.getOpType().equals("MultiHeadAttention") && n.getDomain().equals("com.microsoft")));
        assertTrue(m.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals("com.microsoft")));
    }
}
