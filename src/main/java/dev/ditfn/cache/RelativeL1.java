package dev.ditfn.cache;

/** The relative L1 distance both cache families threshold: {@code mean|a − b| / mean|b|}, over all elements. */
public final class RelativeL1 {
    private RelativeL1() {
    }

    /** {@code Σ|a−b| / (Σ|b| + eps)}; means cancel. Accumulated in double. */
    public static double of(float[] a, float[] b, double eps) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("sizes differ: " + a.length + " vs " + b.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += Math.abs(a[i] - b[i]);
            den += Math.abs(b[i]);
        }
        return num / (den + eps * a.length);
    }
}
