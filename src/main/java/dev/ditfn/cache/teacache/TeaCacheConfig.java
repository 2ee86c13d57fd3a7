package dev.ditfn.cache.teacache;

import java.util.Arrays;

/**
 * TeaCache settings, vLLM-Omni's keys: {@code rel_l1_thresh} (default 0.2), {@code coefficients} (the degree-4
 * rescale polynomial, highest degree first; default: the model family's), and {@code force_last_step} (compute the last
 * step as the original TeaCache does; vLLM-Omni does not, so default false).
 */
public record TeaCacheConfig(double relL1Thresh, double[] coefficients, boolean forceLastStep) {
    public TeaCacheConfig {
        coefficients = coefficients.clone();
    }

    @Override
    public double[] coefficients() {
        return coefficients.clone();
    }

    public void validate() {
        if (!(relL1Thresh >= 0) || Double.isInfinite(relL1Thresh)) {
            throw new IllegalArgumentException("rel_l1_thresh must be a finite number >= 0, was " + relL1Thresh);
        }
        if (coefficients.length != 5 || Arrays.stream(coefficients).anyMatch(c -> !Double.isFinite(c))) {
            throw new IllegalArgumentException("coefficients must be exactly 5 finite numbers (highest degree first), "
                    + "was " + Arrays.toString(coefficients));
        }
    }

    /** {@code c0·d⁴ + c1·d³ + c2·d² + c3·d + c4} (numpy poly1d order). */
    public double rescale(double d) {
        double y = 0;
        for (double c : coefficients) {
            y = y * d + c;
        }
        return y;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TeaCacheConfig t && t.relL1Thresh == relL1Thresh && t.forceLastStep == forceLastStep
                && Arrays.equals(t.coefficients, coefficients);
    }

    @Override
    public int hashCode() {
        return Double.hashCode(relL1Thresh) * 31 + Arrays.hashCode(coefficients) + (forceLastStep ? 1 : 0);
    }

    @Override
    public String toString() {
        return "TeaCacheConfig[rel_l1_thresh=" + relL1Thresh + ", coefficients=" + Arrays.toString(coefficients)
                + ", force_last_step=" + forceLastStep + "]";
    }
}
