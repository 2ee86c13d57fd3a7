package dev.ditfn.engine;

import dev.ditfn.model.qwenimage.QwenImagePipeline;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrueCfgTest {

    @Test
    void combineThenRescalePerTokenByHand() {
        // token 0: cond (3,4) |5|, uncond (1,0); scale 2 -> c = (1,0) + 2*(2,4) = (5,8), |c| = sqrt(89)
        // token 1: cond (0,1) |1|, uncond (0,1) -> c = (0,1), ratio 1
        float[] out = TrueCfg.combine(new float[] {3, 4, 0, 1}, new float[] {1, 0, 0, 1}, 2f, 2);
        double r = 5 / Math.sqrt(89);
        assertArrayEquals(new float[] {(float) (5 * r), (float) (8 * r), 0, 1}, out, 1e-6f);
        assertEquals(5.0, Math.hypot(out[0], out[1]), 1e-5, "each token keeps the conditional norm");
    }

    @Test
    void scaleOneGivesTheConditionalPrediction() {
        float[] cond = {0.3f, -1.2f, 2f, 0.1f, 0.5f, 0.7f};
        assertArrayEquals(cond, TrueCfg.combine(cond, new float[] {9, 9, 9, -9, -9, -9}, 1f, 3), 1e-6f);
    }

    @Test
    void activeOnlyAboveOneWithANegativePrompt() {
        RequestDefaults qwen = QwenImagePipeline.REQUEST_DEFAULTS;
        assertTrue(qwen.cfg(4f, " "));
        assertFalse(qwen.cfg(4f, null));
        assertFalse(qwen.cfg(1f, "blurry"));
    }

    @Test
    void mismatchedSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> TrueCfg.combine(new float[4], new float[2], 2f, 2));
    }
}
