package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.ditfn.testing.AssertClose.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Qwen-Image DiT with Edit's condition tokens, against the double-precision {@link QwenImageReference}: noise
 * tokens then condition-image tokens in one sequence, image {@code i} at frame {@code i} on its own centred grid, and
 * {@code zero_cond_t} (Edit-2511) modulating condition tokens with the t = 0 embedding.
 */
class QwenImageEditTransformerTest {
    private static final double TOL = 1e-4;
    /** Noise 3×4, a condition image 4×2 and a second one 2×2 (Edit Plus). */
    private static final List<int[]> GRIDS = List.of(new int[] {3, 4}, new int[] {4, 2}, new int[] {2, 2});
    private static final int N = 12 + 8 + 4;
    private static final int L = 5;

    @TempDir
    Path dir;

    private float[] run(QwenTestModel m, QwenImageTransformerConfig c, float[] x, float[] e, float sigma,
            float[] condTokens) throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        try (var cond = new QwenImageConditioning(runtime.env(), DType.FLOAT32, c, e, L, GRIDS);
                OnnxTensor hidden = Tensors.of(runtime.env(), DType.FLOAT32, x, 1, N, c.inChannels());
                OnnxTensor t = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {sigma}, 1);
                OnnxTensor mask = Tensors.of(runtime.env(), DType.FLOAT32, condTokens, N, 1);
                ModelSession s = runtime.createSession(new QwenImageTransformer(c).build(GraphTarget.CPU_FP32,
                        m.store, TransformerSegment.whole(c.numLayers())), m.store)) {
            Map<String, OnnxTensor> feeds = new HashMap<>(cond.with(hidden, t));
            if (c.zeroCondT()) {
                feeds.put(QwenImageTransformer.COND_TOKENS, mask);
            }
            feeds.keySet().retainAll(s.session().getInputNames());
            try (OrtSession.Result r = s.run(feeds)) {
                return Tensors.floats(r.get(0));
            }
        }
    }

    @Test
    void conditionTokensFollowTheNoiseOnTheirOwnFrames() throws Exception {
        QwenImageTransformerConfig c = QwenImageTransformerConfig.TINY;
        Random rnd = new Random(5);
        float[] x = QwenTestModel.normal(rnd, N * 64);
        float[] e = QwenTestModel.normal(rnd, L * c.jointAttentionDim());
        try (QwenTestModel m = new QwenTestModel(dir, c, 21)) {
            QwenImageReference ref = new QwenImageReference(c, m.store);
            float[] out = run(m, c, x, e, 0.6f, new float[N]);
            assertEquals(N * 64, out.length, "a velocity for every image token; the pipeline keeps the noise rows");
            assertClose(ref.forward(x, e, new float[] {0.6f}, 1, GRIDS, L, null), out, TOL, "edit sequence");
        }
    }

    @Test
    void zeroCondTModulatesConditionTokensAtTimestepZero() throws Exception {
        QwenImageTransformerConfig c = QwenImageTransformerConfig.TINY.withZeroCondT(true);
        Random rnd = new Random(6);
        float[] x = QwenTestModel.normal(rnd, N * 64);
        float[] e = QwenTestModel.normal(rnd, L * c.jointAttentionDim());
        try (QwenTestModel m = new QwenTestModel(dir, c, 22)) {
            QwenImageReference ref = new QwenImageReference(c, m.store);
            float[] noCondition = new float[N];
            float[] allCondition = new float[N];
            java.util.Arrays.fill(allCondition, 1f);
            assertClose(ref.forward(x, e, new float[] {0.6f}, 1, GRIDS, L, null),
                    run(m, c, x, e, 0.6f, noCondition), TOL, "no condition token: the plain model");
            assertClose(ref.forward(x, e, new float[] {0.6f}, 1, GRIDS, L, new float[] {0f}),
                    run(m, c, x, e, 0.6f, allCondition), TOL, "every image token modulated at t = 0");
            float[] pipelineMask = new float[N];
            java.util.Arrays.fill(pipelineMask, 12, N, 1f);
            float[] mixed = run(m, c, x, e, 0.6f, pipelineMask);
            float[] plain = run(m, c, x, e, 0.6f, noCondition);
            double diff = 0;
            for (int i = 0; i < mixed.length; i++) {
                diff = Math.max(diff, Math.abs(mixed[i] - plain[i]));
            }
            org.junit.jupiter.api.Assertions.assertTrue(diff > 1e-2, "condition tokens change the output: " + diff);
        }
    }
}
