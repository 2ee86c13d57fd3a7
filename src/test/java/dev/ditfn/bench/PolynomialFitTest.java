package dev.ditfn.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PolynomialFitTest {

    @Test
    void recoversKnownCoefficientsHighestDegreeFirst() {
        double[] truth = {-450.0, 280.0, -45.0, 3.2, -0.02}; // Qwen-Image's TeaCache table
        double[] x = new double[40];
        double[] y = new double[40];
        for (int i = 0; i < x.length; i++) {
            x[i] = 0.01 + 0.3 * i / x.length; // the small relative distances TeaCache sees
            y[i] = truth[0] * Math.pow(x[i], 4) + truth[1] * Math.pow(x[i], 3) + truth[2] * x[i] * x[i]
                    + truth[3] * x[i] + truth[4];
        }
        double[] fit = PolynomialFit.fit(x, y, 4);
        for (int i = 0; i < truth.length; i++) {
            assertEquals(truth[i], fit[i], 1e-8 * Math.max(1, Math.abs(truth[i])), "coefficient " + i);
        }
    }

    @Test
    void orderIsHighestDegreeFirst() {
        // y = 2x + 5: the constant comes last, as numpy.polyfit returns it
        double[] fit = PolynomialFit.fit(new double[] {0, 1, 2, 3}, new double[] {5, 7, 9, 11}, 1);
        assertArrayEquals(new double[] {2, 5}, fit, 1e-12);
        assertEquals(11, PolynomialFit.evaluate(fit, 3), 1e-12);
    }

    @Test
    void leastSquaresOnNoisyLine() {
        // points 0,1,2 with y 0,1,1: the least-squares line is y = 0.5x + 1/6
        double[] fit = PolynomialFit.fit(new double[] {0, 1, 2}, new double[] {0, 1, 1}, 1);
        assertArrayEquals(new double[] {0.5, 1.0 / 6}, fit, 1e-12);
    }

    @Test
    void refusesTooFewPoints() {
        assertThrows(IllegalArgumentException.class, () -> PolynomialFit.fit(new double[] {1, 2}, new double[] {1, 2}, 4));
        assertThrows(IllegalArgumentException.class,
                () -> PolynomialFit.fit(new double[] {1, 1, 1}, new double[] {1, 2, 3}, 2));
    }
}
