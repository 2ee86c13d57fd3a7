package dev.ditfn.cache.cachedit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SCM masks (spec §2.7). The N=28 and N=9 masks are the spec's golden masks; every other expected mask is derived by
 * hand from the bin rules, with the derivation written next to it.
 */
class StepsMaskTest {
    private static final String[] PRESETS = {"slow", "medium", "fast", "ultra"};

    private static String mask(String policy, int steps) {
        return StepsMask.toString(StepsMask.forPolicy(policy, steps));
    }

    private static String ones(int n) {
        return "1".repeat(n);
    }

    private static String zeros(int n) {
        return "0".repeat(n);
    }

    @Test
    void goldenMasksAt28Steps() {
        assertEquals("1111111101110011100110010001", mask("slow", 28));
        assertEquals("1111110110001100011000110001", mask("medium", 28));
        assertEquals("1111110100010000100000100001", mask("fast", 28));
        assertEquals("1111001000001000000100000001", mask("ultra", 28));
    }

    @Test
    void goldenMasksAt9Steps() {
        assertEquals("111110111", mask("slow", 9));
        assertEquals("111110101", mask("medium", 9));
        assertEquals("111101001", mask("fast", 9));
        assertEquals("111001001", mask("ultra", 9));
    }

    @Test
    void computeCountsAt28MatchThePresetTable() {
        int[] expected = {18, 15, 11, 8};
        for (int i = 0; i < PRESETS.length; i++) {
            int sum = 0;
            for (int m : StepsMask.forPolicy(PRESETS[i], 28)) {
                sum += m;
            }
            assertEquals(expected[i], sum, PRESETS[i]);
        }
    }

    /**
     * fast, N=50: scale = (50/28)·0.5 = 0.892857. Base compute [6,1,1,1,1,1] cache [1,3,4,5,4], sum 28. One pass:
     * c0 += int(5.36)=5 → 11 (33); k0 += max(int(0.89),1)=1 → 2 (34); c1 += 1 → 2 (35); k1 += int(2.68)=2 → 5 (37);
     * c2 += 1 → 2 (38); k2 += int(3.57)=3 → 7 (41); c3 += 1 → 2 (42); k3 += int(4.46)=4 → 9 (46); c4 += 1 → 2 (47);
     * k4 += int(3.57)=3 → 7 (50): stop. Compute [11,2,2,2,2,1], cache [2,5,7,9,7], exactly 50, no truncation; the last
     * element is already 1.
     */
    @Test
    void fastAt50IsDerivedByHand() {
        String expected = ones(11) + zeros(2) + ones(2) + zeros(5) + ones(2) + zeros(7) + ones(2) + zeros(9) + ones(2)
                + zeros(7) + ones(1);
        assertEquals(50, expected.length());
        assertEquals(expected, mask("fast", 50));
        assertArrayEquals(StepsMask.fromBins(new int[] {11, 2, 2, 2, 2, 1}, new int[] {2, 5, 7, 9, 7}, 50),
                StepsMask.forPolicy("fast", 50));
    }

    /**
     * slow, N=50: base compute [8,3,3,2,1,1] cache [1,2,2,2,3]. First pass: c0 += int(7.14)=7 → 15 (35);
     * k0 += 1 → 2 (36); c1 += int(2.68)=2 → 5 (38); k1 += int(1.79)=1 → 3 (39); c2 += 2 → 5 (41); k2 += 1 → 3 (42);
     * c3 += 1 → 3 (43); k3 += 1 → 3 (44); c4 += 1 → 2 (45); k4 += int(2.68)=2 → 5 (47). Still &lt; 50, so the last
     * compute bin gets +1: [15,5,5,3,2,2] (48). Second pass: c0 += 7 → 22 (55): stop. Truncate 55 → 50 alternating
     * cache/compute from the end: k4 5→4 (54), c5 2→1 (53), k4 4→3 (52), c5 1→0 popped (51), k4 3→2 (50). Compute
     * [22,5,5,3,2], cache [2,3,3,3,2]: the mask ends in a cache bin, so the forced last 1 overwrites a 0.
     */
    @Test
    void slowAt50GrowsTwiceTruncatesAndForcesTheLastStep() {
        String expected = ones(22) + zeros(2) + ones(5) + zeros(3) + ones(5) + zeros(3) + ones(3) + zeros(3) + ones(2)
                + "01";
        assertEquals(50, expected.length());
        assertEquals(expected, mask("slow", 50));
    }

    @Test
    void masksAt50HaveTheirShape() {
        int[] lead = {22, 16, 11, 7};
        for (int i = 0; i < PRESETS.length; i++) {
            int[] m = StepsMask.forPolicy(PRESETS[i], 50);
            assertEquals(50, m.length);
            assertEquals(1, m[49]);
            assertEquals(lead[i], StepsMask.leadingOnes(m), PRESETS[i]);
        }
    }

    /**
     * fast, N=20 (truncate only): [6,1,1,1,1,1]/[1,3,4,5,4] = 28 → k4 4→3 (27), c5 popped (26), k4 3→2 (25), c4 popped
     * (24), k4 2→1 (23), c3 popped (22), k4 popped (21), c2 popped (20). Compute [6,1], cache [1,3,4,5]:
     * 111111 0 1 000, then the compute bins are exhausted and the cache bins 4 and 5 follow back to back; last forced 1.
     */
    @Test
    void fastAt20TruncatesAwayTheTrailingComputeBins() {
        assertEquals(ones(6) + "0" + "1" + zeros(3) + zeros(4) + zeros(4) + "1", mask("fast", 20));
    }

    /**
     * medium, N=20: [6,2,2,2,2,1]/[1,3,3,3,3] = 28 → k4 3→2 (27), c5 popped (26), k4 2→1 (25), c4 2→1 (24),
     * k4 popped (23), c4 popped (22), k3 3→2 (21), c3 2→1 (20). Compute [6,2,2,1], cache [1,3,3,2].
     */
    @Test
    void mediumAt20() {
        assertEquals(ones(6) + "0" + "11" + "000" + "11" + "000" + "1" + "01", mask("medium", 20));
    }

    /**
     * fast, N=16: as N=20 above down to [6,1]/[1,3,4,5] (20), then k3 5→4 (19), c1 popped (18), k3 4→3 (17),
     * c0 6→5 (16). Compute [5], cache [1,3,4,3]: 11111 0 000 0000 000, last forced 1.
     */
    @Test
    void fastAt16() {
        assertEquals(ones(5) + zeros(10) + "1", mask("fast", 16));
    }

    /**
     * slow, N=16: [8,3,3,2,1,1]/[1,2,2,2,3] = 28 → k4 3→2, c5 popped, k4 2→1, c4 popped, k4 popped, c3 2→1 (22),
     * k3 2→1, c3 popped (20), k3 popped, c2 3→2 (18), k2 2→1, c2 2→1 (16). Compute [8,3,1], cache [1,2,1].
     */
    @Test
    void slowAt16() {
        assertEquals(ones(8) + "0" + "111" + "00" + "1" + "1", mask("slow", 16));
    }

    /** medium, N=12 (10..15 table [4,2,1,1,1]/[1,1,2,2] = 15): k3 2→1 (14), c4 popped (13), k3 popped (12). */
    @Test
    void mediumAt12() {
        assertEquals("1111" + "0" + "11" + "0" + "1" + "00" + "1", mask("medium", 12));
    }

    /** fast, N=12 ([3,1,1,1,1]/[1,2,2,3] = 15): k3 3→2 (14), c4 popped (13), k3 2→1 (12). */
    @Test
    void fastAt12() {
        assertEquals("111" + "0" + "1" + "00" + "1" + "00" + "1" + "1", mask("fast", 12));
    }

    /**
     * slow, N=10 ([4,2,2,2,1]/[1,1,1,1] = 15): k3 popped (14), c4 popped (13), k2 popped (12), c3 2→1 (11), k1 popped
     * (10). Compute [4,2,2,1], cache [1]: 1111 0 then the compute bins back to back.
     */
    @Test
    void slowAt10() {
        assertEquals("1111" + "0" + "11" + "11" + "1", mask("slow", 10));
    }

    /** ultra, N=10 ([2,1,1,1,1]/[1,2,3,3] = 15): k3 3→2, c4 popped, k3 2→1, c3 popped, k3 popped (10). */
    @Test
    void ultraAt10() {
        assertEquals("11" + "0" + "1" + "00" + "1" + "00" + "1", mask("ultra", 10));
    }

    /** N=8 tables sum to 8 already. */
    @Test
    void eightSteps() {
        assertEquals("11111" + "0" + "1" + "1", mask("slow", 8));
        assertEquals("1111" + "0" + "1" + "0" + "1", mask("medium", 8));
        assertEquals("111" + "0" + "1" + "00" + "1", mask("fast", 8));
        assertEquals("11" + "00" + "1" + "00" + "1", mask("ultra", 8));
    }

    @Test
    void sixAndFourStepsAreTheSameForEveryPreset() {
        for (String p : PRESETS) {
            assertEquals("111" + "00" + "1", mask(p, 6), p);
            assertEquals("11" + "0" + "1", mask(p, 4), p);
        }
    }

    @Test
    void everySupportedStepCountGivesAValidMask() {
        for (String p : PRESETS) {
            for (int n = 4; n <= 120; n++) {
                if (n == 5 || n == 7) {
                    continue;
                }
                int[] m = StepsMask.forPolicy(p, n);
                assertEquals(n, m.length, p + " " + n);
                assertEquals(1, m[n - 1], p + " " + n);
                assertTrue(StepsMask.leadingOnes(m) >= 2, p + " " + n);
            }
        }
    }

    @Test
    void otherStepCountsBelowEightAreRejected() {
        for (int n : new int[] {0, 1, 2, 3, 5, 7}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StepsMask.forPolicy("fast", n));
            assertTrue(e.getMessage().contains("total_steps=" + n), e.getMessage());
        }
    }

    @Test
    void unknownPoliciesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> StepsMask.forPolicy("Fast", 28));
        assertThrows(IllegalArgumentException.class, () -> StepsMask.forPolicy("none", 28));
        assertThrows(IllegalArgumentException.class, () -> StepsMask.forPolicy(null, 28));
    }

    @Test
    void fromBinsAlternatesTruncatesAndDoesNotForceTheLastStep() {
        assertEquals("1100011", StepsMask.toString(StepsMask.fromBins(new int[] {2, 2}, new int[] {3}, 7)));
        assertEquals("11000", StepsMask.toString(StepsMask.fromBins(new int[] {2, 2}, new int[] {3}, 5)));
        // compute bins run out: the cache bins follow one another
        assertEquals("1000000", StepsMask.toString(StepsMask.fromBins(new int[] {1}, new int[] {2, 2, 2}, 7)));
        // the fast base bins give the golden 28-step mask without forcing
        assertEquals("1111110100010000100000100001",
                StepsMask.toString(StepsMask.fromBins(new int[] {6, 1, 1, 1, 1, 1}, new int[] {1, 3, 4, 5, 4}, 28)));
        assertThrows(IllegalArgumentException.class, () -> StepsMask.fromBins(new int[] {2}, new int[] {1}, 4));
    }

    @Test
    void parseAndLeadingOnes() {
        assertArrayEquals(new int[] {1, 1, 0, 1}, StepsMask.parse("1101"));
        assertEquals(2, StepsMask.leadingOnes(StepsMask.parse("1101")));
        assertEquals(0, StepsMask.leadingOnes(StepsMask.parse("0111")));
        assertThrows(IllegalArgumentException.class, () -> StepsMask.parse("1201"));
    }
}
