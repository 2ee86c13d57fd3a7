package dev.ditfn.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.model.text.QwenTextInputs;
import dev.ditfn.testing.ReferenceMath;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

/**
 * The vision tower's Java-side inputs: the processor's 2×2-block patch order, the 2-D RoPE tables and the window
 * windows, against hand-worked values and against upstream's literal formulations (numpy reshape/transpose, the
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
    void windowsAreGetWindowIndexPaddedToFullWindows() {
        for (int[] grid : new int[][] {{8, 12}, {12, 10}, {16, 16}, {2, 2}, {18, 4}, {18, 22}}) {
            int gh = grid[0];
            int gw = grid[1];
            int p = gh * gw;
            String at = gh + "x" + gw;
            QwenVisionReference ref = new QwenVisionReference(TINY, null);
            int[] index = ref.windowIndex(gh, gw);
            int[] cu = ref.cuWindowSeqlens(gh, gw);
            // Upstream's permuted order of the pixel_values rows: merged tokens by window_index, 4 rows each.
            int[] permuted = new int[p];
            for (int k = 0; k < index.length; k++) {
                for (int u = 0; u < 4; u++) {
                    permuted[k * 4 + u] = index[k] * 4 + u;
                }
            }
            QwenVisionInputs.Windows w = TINY.windows(gh, gw);
            assertEquals(64, w.length());
            assertEquals(TINY.windowLength(), w.length());
            assertEquals(cu.length - 1, w.count(), at + " windows");
            assertEquals(w.count() * 64, w.rows().length);
            assertEquals(w.count() * 64, w.padBias().length);
            boolean[] seen = new boolean[p];
            for (int s = 0; s < w.count(); s++) {
                int len = cu[s + 1] - cu[s];
                for (int slot = 0; slot < 64; slot++) {
                    int i = s * 64 + slot;
                    if (slot < len) {
                        assertEquals(permuted[cu[s] + slot], w.rows()[i], at + " slot " + i);
                        assertEquals(0f, w.padBias()[i], at + " slot " + i);
                        assertEquals(i, w.inverseRows()[(int) w.rows()[i]], at + " inverse of slot " + i);
                        seen[(int) w.rows()[i]] = true;
                    } else {
                        assertEquals(Float.NEGATIVE_INFINITY, w.padBias()[i], at + " pad slot " + i);
                        assertTrue(w.rows()[i] >= 0 && w.rows()[i] < p, at + " pad slot " + i + " must be a row");
                    }
                }
            }
            for (int row = 0; row < p; row++) {
                assertTrue(seen[row], at + " row " + row + " in no window");
            }
        }
    }

    @Test
    void windowsAreEightByEightPatchesFromTheTopLeft() {
        // 8 x 12 patches, merged 4 x 6: window 0 is merged columns 0..3, window 1 columns 4..5 (32 patches, 32 pads).
        QwenVisionInputs.Windows w = QwenVisionInputs.windows(8, 12, 2, 4);
        assertEquals(2, w.count());
        long[] want0 = new long[64];
        long[] want1 = new long[64];
        for (int r = 0; r < 4; r++) {
            for (int i = 0; i < 16; i++) {
                want0[r * 16 + i] = r * 24 + i; // merged row r, columns 0..3: rows 24r .. 24r + 15
            }
            for (int i = 0; i < 8; i++) {
                want1[r * 8 + i] = r * 24 + 16 + i; // columns 4..5: rows 24r + 16 .. 24r + 23
            }
        }
        assertArrayEquals(want0, Arrays.copyOfRange(w.rows(), 0, 64));
        assertArrayEquals(Arrays.copyOfRange(want1, 0, 32), Arrays.copyOfRange(w.rows(), 64, 96));
        assertEquals(0f, w.padBias()[64 + 31]);
        assertEquals(Float.NEGATIVE_INFINITY, w.padBias()[64 + 32]);
        assertEquals(64, w.inverseRows()[16]); // row 16 = patch (0, 8) opens window 1
        assertEquals(16, w.inverseRows()[24]); // row 24 = patch (2, 0): window 0, merged row 1
        assertEquals(8L * 128 + 4 * 128 + 8 * 96, w.bytes());
        assertThrows(IllegalArgumentException.class, () -> QwenVisionInputs.windows(7, 12, 2, 4));
    }
}
