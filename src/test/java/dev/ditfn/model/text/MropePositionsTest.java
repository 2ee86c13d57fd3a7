package dev.ditfn.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.stream.LongStream;

/**
 * Qwen2.5-VL's M-RoPE on the Java side: {@code get_rope_index}'s 3-axis position ids for one sample with images
 * ({@link QwenTextInputs#mropePositionIds}) on hand-worked sequences, the {@code mrope_section} column selection of
 * {@link QwenTextInputs#mropeTables}, and the splice rows ({@link QwenTextInputs#imagePositions}).
 */
class MropePositionsTest {
    static final long VS = 900; // <|vision_start|>
    static final long VE = 901; // <|vision_end|>
    static final long PAD = 902; // <|image_pad|>
    static final long T = 7; // any text token

    private static long[] seq(long[]... parts) {
        return Arrays.stream(parts).flatMapToLong(Arrays::stream).toArray();
    }

    private static long[] repeat(long id, int n) {
        long[] out = new long[n];
        Arrays.fill(out, id);
        return out;
    }

    private static long[] range(long from, int n) {
        return LongStream.range(from, from + n).toArray();
    }

    @Test
    void editTemplateExampleFromTheSpec() {
        // 65 text tokens, the last one <|vision_start|>; an image of 6 x 10 patches = 3 x 5 merged tokens;
        // <|vision_end|> and two more text tokens.
        long[] ids = seq(repeat(T, 64), new long[] {VS}, repeat(PAD, 15), new long[] {VE, T, T});
        long[][] pos = QwenTextInputs.mropePositionIds(ids, PAD, VS, new int[] {3, 5});
        for (int a = 0; a < 3; a++) {
            assertArrayEquals(range(0, 65), Arrays.copyOfRange(pos[a], 0, 65), "text before the image, axis " + a);
        }
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 5; c++) {
                int at = 65 + r * 5 + c;
                assertEquals(65, pos[0][at]);
                assertEquals(65 + r, pos[1][at]);
                assertEquals(65 + c, pos[2][at]);
            }
        }
        // <|vision_end|> gets 65 + max(gh/2, gw/2) = 70 on all axes, then 71, 72.
        for (int a = 0; a < 3; a++) {
            assertArrayEquals(new long[] {70, 71, 72}, Arrays.copyOfRange(pos[a], 80, 83));
        }
    }

    @Test
    void twoImagesEachRestartAfterTheLargestIdSoFar() {
        long[] ids = seq(new long[] {T, T, VS}, repeat(PAD, 6), new long[] {VE, T, VS}, repeat(PAD, 8),
                new long[] {VE, T});
        long[][] pos = QwenTextInputs.mropePositionIds(ids, PAD, VS, new int[] {2, 3}, new int[] {4, 2});
        long[] t = {0, 1, 2, /* image 1 */ 3, 3, 3, 3, 3, 3, /* */ 6, 7, 8, /* image 2 */ 9, 9, 9, 9, 9, 9, 9, 9,
            /* */ 13, 14};
        long[] h = {0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 14};
        long[] w = {0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 9, 10, 9, 10, 9, 10, 13, 14};
        assertArrayEquals(t, pos[0]);
        assertArrayEquals(h, pos[1]);
        assertArrayEquals(w, pos[2]);
        assertArrayEquals(new long[] {3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17, 18, 19},
                QwenTextInputs.imagePositions(ids, PAD));
    }

    @Test
    void textOnlyIsPlainPositionsAndMismatchesAreRefused() {
        long[][] pos = QwenTextInputs.mropePositionIds(new long[] {T, T, T, T}, PAD, VS);
        for (long[] axis : pos) {
            assertArrayEquals(range(0, 4), axis);
        }
        long[] oneImage = seq(new long[] {VS}, repeat(PAD, 4), new long[] {VE});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QwenTextInputs.mropePositionIds(oneImage, PAD, VS));
        assertTrue(e.getMessage().contains("1 images"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QwenTextInputs.mropePositionIds(oneImage, PAD, VS, new int[] {2, 3}));
        assertTrue(e.getMessage().contains("6"), e.getMessage());
    }

    @Test
    void tablesTakeEachSectionFromItsAxisInBothHalves() {
        // head_dim 8, mrope_section [1, 1, 2]: columns t h w w | t h w w.
        long[][] pos = {{1}, {2}, {3}};
        QwenTextInputs.Rope rope = QwenTextInputs.mropeTables(pos, 8, 1e6, new int[] {1, 1, 2});
        long[] axisOfColumn = {1, 2, 3, 3, 1, 2, 3, 3};
        for (int d = 0; d < 8; d++) {
            double angle = axisOfColumn[d] / Math.pow(1e6, 2.0 * (d % 4) / 8);
            assertEquals(Math.cos(angle), rope.cos()[d], 1e-6, "cos column " + d);
            assertEquals(Math.sin(angle), rope.sin()[d], 1e-6, "sin column " + d);
        }
        // The 7B's [16, 24, 24] over 128: frequency 15 follows t, 16..39 h, 40..63 w, in both halves.
        QwenTextInputs.Rope big = QwenTextInputs.mropeTables(new long[][] {{0}, {0}, {5}}, 128, 1e6,
                new int[] {16, 24, 24});
        assertEquals(1f, big.cos()[39]);
        assertEquals(1f, big.cos()[64 + 39]);
        assertTrue(big.cos()[40] < 1f && big.cos()[64 + 40] < 1f);
        assertThrows(IllegalArgumentException.class, () -> QwenTextInputs.mropeTables(pos, 8, 1e6, new int[] {1, 1}));
    }

    @Test
    void equalAxesGiveThePlainTablesExactly() {
        long[] p = range(0, 9);
        QwenTextInputs.Rope m = QwenTextInputs.mropeTables(new long[][] {p, p, p}, 8, 1e6, new int[] {1, 1, 2});
        QwenTextInputs.Rope plain = QwenTextInputs.rope(9, 8, 1e6);
        assertArrayEquals(plain.cos(), m.cos());
        assertArrayEquals(plain.sin(), m.sin());
    }
}
