package dev.ditfn.model.qwenimage;

import dev.ditfn.dit.TransformerSegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The runner: segmented chains give the monolithic velocity; bad chains are refused. */
class QwenImageTransformerRunnerTest {
    /** Same kernels on the same data; chaining only moves tensors between sessions. */
    private static final float TOLERANCE = 1e-5f;

    @Test
    void everySplitGivesTheMonolithicVelocity(@TempDir Path dir) throws Exception {
        QwenImageTransformerConfig config = new QwenImageTransformerConfig(2, 64, 16, 4, 32, 2, 32,
                new int[] {8, 12, 12});
        try (QwenTestModel model = new QwenTestModel(dir, config, 5);
                QwenImageTransformerRunner runner = new QwenImageTransformerRunner(QwenTestModel.runtime(), config,
                        model.store)) {
            Random rnd = new Random(1);
            int h2 = 4;
            int w2 = 3;
            int textLen = 6;
            float[] latents = QwenTestModel.normal(rnd, h2 * w2 * 64);
            float[] prompt = QwenTestModel.normal(rnd, textLen * 32);
            try (var cond = runner.condition(prompt, textLen, h2, w2)) {
                float[] whole = runner.forward(latents, 0.7f, cond);
                assertEquals(h2 * w2 * 64, whole.length);
                List<List<TransformerSegment>> chains = List.of(
                        List.of(seg(0, 1, true, false), seg(1, 4, false, true)),
                        List.of(seg(0, 1, true, false), seg(1, 3, false, false), seg(3, 4, false, true)),
                        List.of(seg(0, 0, true, false), seg(0, 2, false, false), seg(2, 4, false, true)),
                        List.of(seg(0, 4, true, false), seg(4, 4, false, true)));
                for (List<TransformerSegment> chain : chains) {
                    assertArrayEquals(whole, runner.forward(latents, 0.7f, cond, chain), TOLERANCE, chain.toString());
                }
            }
        }
    }

    @Test
    void chainsThatSkipOrReorderBlocksAreRefused(@TempDir Path dir) {
        QwenImageTransformerConfig config = QwenImageTransformerConfig.TINY;
        try (QwenTestModel model = new QwenTestModel(dir, config, 5);
                QwenImageTransformerRunner runner = new QwenImageTransformerRunner(QwenTestModel.runtime(), config,
                        model.store);
                var cond = runner.condition(new float[3 * 32], 3, 2, 2)) {
            float[] latents = new float[4 * 64];
            assertThrows(IllegalArgumentException.class, () -> runner.forward(latents, 0.5f, cond,
                    List.of(seg(0, 1, true, false), seg(1, 1, false, true))), "stops before the last block");
            assertThrows(IllegalArgumentException.class, () -> runner.forward(latents, 0.5f, cond,
                    List.of(seg(0, 1, true, false), seg(0, 2, false, true))), "repeats block 0");
            assertThrows(IllegalArgumentException.class, () -> runner.forward(latents, 0.5f, cond,
                    List.of(seg(0, 2, false, true))), "no prologue");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static TransformerSegment seg(int from, int to, boolean prologue, boolean epilogue) {
        return new TransformerSegment(from, to, prologue, epilogue, false);
    }
}
