package dev.ditfn.testing;

import static dev.ditfn.testing.AssertClose.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The graph tests' closeness assertion fails where it must, and its message leads to the worst value. */
class AssertCloseTest {

    @Test
    void passesWithinAbsolutePlusRelativeTolerance() {
        // allowed error at 10 is 0.25 + 0.25·10 = 2.75, at 0 it is 0.25: both met exactly
        assertClose(new double[] {10, 0}, new float[] {12.75f, -0.25f}, 0.25, "on the boundary");
    }

    @Test
    void failureNamesTheWorstIndexAndBothValues() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> assertClose(new double[] {1, 2, 3, 100}, new float[] {1.5f, 2f, 4f, 105f}, 0.1, "probe"));
        // allowances 0.2, 0.3, 0.4, 10.1: index 0 is over by 0.3, index 2 by 0.6 (the worst); index 3 is off the
        // most (5) but within its allowance
        assertEquals("probe: 2 of 4 values outside 0.1 + 0.1·|expected|; worst at [2]: expected 3.0, got 4.0; "
                + "max abs error 5.0", e.getMessage());
    }

    @Test
    void zeroToleranceMeansExact() {
        assertClose(new double[] {0.25}, new float[] {0.25f}, 0, "exact");
        assertThrows(AssertionFailedError.class,
                () -> assertClose(new double[] {0.1}, new float[] {0.1f}, 0, "0.1f is not 0.1"));
    }

    @Test
    void nanFailsAndNonFiniteExpectationsMustMatchExactly() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> assertClose(new double[] {1, 2}, new float[] {1f, Float.NaN}, 1, "nan"));
        assertTrue(e.getMessage().contains("worst at [1]: expected 2.0, got NaN"), e.getMessage());
        assertClose(new double[] {Double.NEGATIVE_INFINITY}, new float[] {Float.NEGATIVE_INFINITY}, 0.1, "-inf");
        assertThrows(AssertionFailedError.class,
                () -> assertClose(new double[] {Double.POSITIVE_INFINITY}, new float[] {3e38f}, 0.1, "+inf"));
    }

    @Test
    void onlyComparedIndicesCount() {
        assertClose(new double[] {1, 2}, new float[] {1f, 99f}, 0, 0, i -> i == 0, "index 1 is padding");
        assertThrows(AssertionFailedError.class,
                () -> assertClose(new double[] {1, 2}, new float[] {1.5f, 99f}, 0, 0, i -> i == 0, "index 0 is off"));
    }

    @Test
    void lengthMismatchFails() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> assertClose(new double[] {1, 2}, new float[] {1f}, 1, "short"));
        assertEquals("short: expected 2 values, got 1", e.getMessage());
    }
}
