package dev.ditfn.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.IntPredicate;

/** The closeness assertion of the graph tests: graph outputs against a double-precision reference. */
public final class AssertClose {
    /** fp32 graph of single ops or layers vs. double-precision reference: absolute + relative tolerance. */
    public static final double FP32_TOL = 1e-5;

    private AssertClose() {
    }

    /** {@code |actual − expected| ≤ tol + tol·|expected|} at every index. */
    public static void assertClose(double[] expected, float[] actual, double tol, String what) {
        assertClose(expected, actual, tol, tol, i -> true, what);
    }

    /**
     * {@code |actual − expected| ≤ absTol + relTol·|expected|} at every index where {@code compared} holds; a NaN or
     * infinite expected value must be matched exactly. Prints the observed error, which the tests' tolerance comments
     * quote; a failure names the count outside, the worst index with both values, and the largest absolute error.
     */
    public static void assertClose(double[] expected, float[] actual, double absTol, double relTol,
            IntPredicate compared, String what) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        int count = 0;
        int bad = 0;
        int worst = -1;
        double worstExcess = Double.NEGATIVE_INFINITY;
        double maxAbs = 0;
        double maxExpected = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!compared.test(i)) {
                continue;
            }
            count++;
            double e = expected[i];
            double a = actual[i];
            double excess;
            if (Double.isFinite(e)) {
                double err = Math.abs(a - e);
                double allowed = absTol + relTol * Math.abs(e);
                excess = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err - allowed;
                maxAbs = Math.max(maxAbs, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
                maxExpected = Math.max(maxExpected, Math.abs(e));
            } else {
                excess = Double.compare(e, a) == 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            }
            if (excess > 0) {
                bad++;
            }
            if (excess > worstExcess) {
                worstExcess = excess;
                worst = i;
            }
        }
        System.out.printf("%s: %d values, max abs error %.3e (max |expected| %.3g), tolerance %.1e + %.1e·|e|%n", what,
                count, maxAbs, maxExpected, absTol, relTol);
        if (bad > 0) {
            fail(what + ": " + bad + " of " + count + " values outside " + absTol + " + " + relTol
                    + "·|expected|; worst at [" + worst + "]: expected " + expected[worst] + ", got " + actual[worst]
                    + "; max abs error " + maxAbs);
        }
    }
}
