package dev.ditfn.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditfn.model.text.QwenTextInputs;
import dev.ditfn.testing.ReferenceMath;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

/**
 * The vision tower's Java-side inputs: the processor's 2×2-block patch order, the 2-D RoPE tables and the window
 * mask, against hand-worked values and against upstream's literal formulations (numpy reshape/transpose, the
 * {@code rot_pos_emb} permute, {@code get_window_index}) in {@link QwenVisionReference}.
 */
class QwenVisionInputsTest {
    static final QwenVisionConfig TINY = QwenVisionConfig.TINY;

    @Test
    void patchRowsAreTwoByTwoBlocksRowMajor() {
        // A 4 x 6 patch grid: merged 2 x 3. Rows 0..3 are block (0,0), rows 4..7 block (0,1), ...
        int[][] want = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {0, 4}, {0, 5}, {1, 4},
            {1, 5}, {2, 0}, {2, 1}, {3, 0}, {3, 1}};
        for (int p = 0; p < want.length; p++) {
            assertArrayEquals(want[p], QwenVisionInputs.patchRowCol(p, 6, 2), "row " + p);
        }
    }

    @Test
    void patchifyIsTheProcessorsReshapeAndTranspose() {
        int gh = 4;
        int gw = 6;
        int p = TINY.patchSize();
        int h = gh * p;
        int w = gw * p;
        float[] chw = new float[3 * h * w];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = i; // every value tells where it came from
        }
        // numpy: tile to [T=2, C, H, W]; reshape (1, 2, C, gh/2, 2, p, gw/2, 2, p); transpose (0,3,6,4,7,2,1,5,8).
        double[] tiled = new double[2 * chw.length];
        for (int t = 0; t < 2; t++) {
            for (int i = 0; i < chw.length; i++) {
                tiled[t * chw.length + i] = chw[i];
            }
        }
        double[] want = ReferenceMath.transpose(tiled, new long[] {1, 2, 3, gh / 2, 2, p, gw / 2, 2, p},
                0, 3, 6, 4, 7, 2, 1, 5, 8);
        float[] got = QwenVisionInputs.patchify(chw, h, w, TINY);
        assertEquals(gh * gw * TINY.patchFeatures(), got.length);
        assertArrayEquals(ReferenceMath.f(want), got);
        assertThrows(IllegalArgumentException.class, () -> QwenVisionInputs.patchify(new float[3 * 14 * 28], 14, 28,
                TINY));
    }

    @Test
    void ropeRowsFollowTheBlockOrderAndBothAxes() {
        int gh = 4;
        int gw = 6;
        int hd = TINY.headDim(); // 16: 4 row frequencies, 4 column frequencies, twice
        QwenTextInputs.Rope rope = TINY.rope(gh, gw);
        double[] angles = new QwenVisionReference(TINY, null).rotPosEmb(gh, gw);
        double[] cos = new double[gh * gw * hd];
        double[] sin = new double[gh * gw * hd];
        for (int row = 0; row < gh * gw; row++) {
            for (int d = 0; d < hd; d++) {
                double a = angles[row * hd / 2 + d % (hd / 2)];
                cos[row * hd + d] = Math.cos(a);
                sin[row * hd + d] = Math.sin(a);
            }
        }
        dev.ditfn.testing.AssertClose.assertClose(cos, rope.cos(), 1e-6, "cos vs rot_pos_emb");
        dev.ditfn.testing.AssertClose.assertClose(sin, rope.sin(), 1e-6, "sin vs rot_pos_emb");
        // Hand-worked: row 6 is patch (1, 2): angles [1·inv, 2·inv]; inv_0 = 1, inv_1 = 10000^(-1/4) = 0.1.
        assertEquals(Math.cos(1), rope.cos()[6 * hd], 1e-6);
        assertEquals(Math.cos(0.1), rope.cos()[6 * hd + 1], 1e-6);
        assertEquals(Math.cos(2), rope.cos()[6 * hd + 4], 1e-6);
        assertEquals(Math.sin(0.2), rope.sin()[6 * hd + 8 + 4 + 1], 1e-6);
    }

    @Test
    void windowBiasIsGetWindowIndexInNaturalOrder() {
        for (int[] grid : new int[][] {{8, 12}, {12, 10}, {16, 16}, {2, 2}, {18, 4}}) {
            int gh = grid[0];
            int gw = grid[1];
            int p = gh * gw;
            QwenVisionReference ref = new QwenVisionReference(TINY, null);
            int[] index = ref.windowIndex(gh, gw);
            int[] cu = ref.cuWindowSeqlens(gh, gw);
            // Window of each patch in the permuted order, then mapped back to natural order.
            int[] windowOfPermuted = new int[p];
            for (int s = 0; s + 1 < cu.length; s++) {
                Arrays.fill(windowOfPermuted, cu[s], cu[s + 1], s);
            }
            int[] window = new int[p];
            for (int k = 0; k < index.length; k++) {
                for (int u = 0; u < 4; u++) {
                    window[index[k] * 4 + u] = windowOfPermuted[k * 4 + u];
                }
            }
            float[] bias = TINY.windowBias(gh, gw);
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    float want = window[i] == window[j] ? 0f : Float.NEGATIVE_INFINITY;
                    assertEquals(want, bias[i * p + j], gh + "x" + gw + " at " + i + "," + j);
                }
            }
        }
    }

    @Test
    void windowsAreEightByEightPatchesFromTheTopLeft() {
        // 8 x 12 patches: columns 0..7 form one window, 8..11 another. Row 0 is patch (0,0), row 16 patch (0,8).
        float[] bias = QwenVisionInputs.windowBias(8, 12, 2, 4);
        int p = 96;
        assertEquals(0f, bias[0 * p + 15]); // (0,0) and row 15 = block 3, patch (1,7)
        assertEquals(Float.NEGATIVE_INFINITY, bias[0 * p + 16]); // (0,8)
        assertEquals(0f, bias[16 * p + 23]); // (0,8) and (1,11)
        assertEquals(Float.NEGATIVE_INFINITY, bias[95 * p + 0]);
        assertThrows(IllegalArgumentException.class, () -> QwenVisionInputs.windowBias(7, 12, 2, 4));
    }
}
