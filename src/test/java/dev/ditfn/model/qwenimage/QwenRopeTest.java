package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * RoPE tables against hand-computed angles on TINY's axes {@code [8, 12, 12]}: 16 pairs per head = 4 frame pairs
 * ({@code ω = 1, 0.1, 0.01, 0.001}), 6 height pairs and 6 width pairs ({@code ω_j = 10000^(−j/6)}: 1, 0.21544, ...).
 * Tolerance 1e-6: the tables are fp32.
 */
class QwenRopeTest {
    private static final double TOL = 1e-6;
    private final QwenRope rope = QwenRope.of(QwenImageTransformerConfig.TINY);

    private static void assertPair(QwenRope.Tables t, int token, int pair, double cos, double sin) {
        int i = token * t.pairs() + pair;
        assertEquals(cos, t.cos()[i], TOL, "cos token " + token + " pair " + pair);
        assertEquals(sin, t.sin()[i], TOL, "sin token " + token + " pair " + pair);
    }

    /** Edit's img_shapes: image i is frame i on its own centred grid; text starts after the largest half-grid. */
    @Test
    void conditionImagesTakeTheNextFramesOnTheirOwnGrids() {
        QwenRope.Tables t = rope.imageTables(java.util.List.of(new int[] {2, 2}, new int[] {3, 1}));
        assertEquals(7, t.tokens());
        // frame 0 is the single-image table
        QwenRope.Tables single = rope.imageTables(2, 2);
        for (int i = 0; i < single.cos().length; i++) {
            assertEquals(single.cos()[i], t.cos()[i]);
        }
        // token 4 = frame 1, row 0, col 0 of a 3x1 grid: (1, -2, -1); frame pair 0 has ω = 1
        assertPair(t, 4, 0, Math.cos(1), Math.sin(1));
        assertPair(t, 4, 4, Math.cos(-2), Math.sin(-2));
        assertPair(t, 4, 10, Math.cos(-1), Math.sin(-1));
        // text starts at max(max(1, 1), max(1, 0)) = 1 on every axis
        QwenRope.Tables txt = rope.textTables(2, java.util.List.of(new int[] {2, 2}, new int[] {8, 2}));
        assertPair(txt, 0, 0, Math.cos(4), Math.sin(4)); // the 8x2 condition grid sets the start: 8/2 = 4
    }

    @Test
    void imageTokensAreCentred() {
        QwenRope.Tables t = rope.imageTables(4, 4);
        assertEquals(16, t.tokens());
        assertEquals(16, t.pairs());
        assertArrayEquals(new long[] {16, 16}, t.shape());
        // row 0 col 0: (p_f, p_h, p_w) = (0, -2, -2)
        for (int k = 0; k < 4; k++) {
            assertPair(t, 0, k, 1, 0); // frame position 0: unrotated
        }
        assertPair(t, 0, 4, Math.cos(-2), Math.sin(-2)); // height, ω = 1
        assertPair(t, 0, 5, Math.cos(-2 * 0.2154434690031884), Math.sin(-2 * 0.2154434690031884));
        assertPair(t, 0, 10, -0.4161468365471424, -0.9092974268256817); // width, ω = 1, angle -2
        // row 3 col 1 (token 13): (0, 1, -1)
        assertPair(t, 13, 4, 0.5403023058681398, 0.8414709848078965);
        assertPair(t, 13, 5, 0.9768816851701912, 0.21378066605529897); // angle 0.21544
        assertPair(t, 13, 10, 0.5403023058681398, -0.8414709848078965);
        // row 2 col 2 (token 10): (0, 0, 0): identity everywhere
        for (int k = 0; k < 16; k++) {
            assertPair(t, 10, k, 1, 0);
        }
        // last width pair of token 0: ω = 10000^(-5/6), angle -2ω
        double w5 = Math.pow(10000, -10.0 / 12);
        assertPair(t, 0, 15, Math.cos(-2 * w5), Math.sin(-2 * w5));
    }

    @Test
    void textTokensStartAfterHalfTheGrid() {
        QwenRope.Tables t = rope.textTables(3, 4, 4);
        assertEquals(3, t.tokens());
        // text token 0: all positions max(4/2, 4/2) = 2
        assertPair(t, 0, 0, -0.4161468365471424, 0.9092974268256817); // frame, ω = 1
        assertPair(t, 0, 1, 0.9800665778412416, 0.19866933079506122); // frame, ω = 0.1: angle 0.2
        assertPair(t, 0, 4, -0.4161468365471424, 0.9092974268256817); // height, ω = 1
        assertPair(t, 0, 10, -0.4161468365471424, 0.9092974268256817); // width, ω = 1
        // text token 2: position 4
        assertPair(t, 2, 4, -0.6536436208636119, -0.7568024953079282);
        assertPair(t, 2, 3, Math.cos(4e-3), Math.sin(4e-3)); // frame, ω = 0.001
    }

    @Test
    void oddGridsCentreWithTheLargerHalfNegative() {
        // h2 = 3: rows -2, -1, 0; w2 = 5: cols -3..1; text starts at max(1, 2) = 2
        QwenRope.Tables img = rope.imageTables(3, 5);
        assertPair(img, 0, 4, Math.cos(-2), Math.sin(-2));
        assertPair(img, 0, 10, Math.cos(-3), Math.sin(-3));
        int last = 2 * 5 + 4; // row 2 col 4: (0, 0, 1)
        assertPair(img, last, 4, 1, 0);
        assertPair(img, last, 10, Math.cos(1), Math.sin(1));
        QwenRope.Tables txt = rope.textTables(1, 3, 5);
        assertPair(txt, 0, 0, Math.cos(2), Math.sin(2));
    }

    @Test
    void rejectsPositionsOutsideUpstreamTables() {
        assertThrows(IllegalArgumentException.class, () -> rope.textTables(4000, 200, 200));
        assertThrows(IllegalArgumentException.class, () -> rope.imageTables(0, 4));
        assertEquals(0, rope.textTables(0, 4, 4).tokens());
    }
}
