package dev.ditfn.bench;

/**
 * Least-squares polynomial fit, {@code numpy.polyfit(x, y, degree)}: coefficients highest degree first. Solved by
 * Householder QR of the Vandermonde matrix (in double), which stays accurate where the normal equations would
 * square its condition number (x is a small relative distance, so x⁴ columns are tiny).
 */
public final class PolynomialFit {
    private PolynomialFit() {
    }

    public static double[] fit(double[] x, double[] y, int degree) {
        int m = x.length;
        int n = degree + 1;
        if (y.length != m) {
            throw new IllegalArgumentException("x and y differ in length: " + m + " vs " + y.length);
        }
        if (m < n) {
            throw new IllegalArgumentException("a degree-" + degree + " fit needs at least " + n + " points, got " + m);
        }
        // Columns scaled by max|x|^k for conditioning; undone at the end.
        double scale = 0;
        for (double v : x) {
            scale = Math.max(scale, Math.abs(v));
        }
        if (scale == 0) {
            scale = 1;
        }
        double[][] a = new double[m][n];
        double[] b = y.clone();
        for (int i = 0; i < m; i++) {
            double t = x[i] / scale;
            double p = 1;
            for (int k = degree; k >= 0; k--) { // column j holds t^(degree - j): highest degree first
                a[i][k] = p;
                p *= t;
            }
        }
        for (int k = 0; k < n; k++) { // Householder QR, applying each reflection to b as well
            double norm = 0;
            for (int i = k; i < m; i++) {
                norm += a[i][k] * a[i][k];
            }
            norm = Math.sqrt(norm);
            if (norm == 0) {
                throw new IllegalArgumentException("x has fewer than " + n + " distinct values");
            }
            double alpha = a[k][k] > 0 ? -norm : norm;
            double[] v = new double[m];
            v[k] = a[k][k] - alpha;
            for (int i = k + 1; i < m; i++) {
                v[i] = a[i][k];
            }
            double vv = 0;
            for (int i = k; i < m; i++) {
                vv += v[i] * v[i];
            }
            if (vv == 0) {
                continue;
            }
            for (int j = k; j < n; j++) {
                double dot = 0;
                for (int i = k; i < m; i++) {
                    dot += v[i] * a[i][j];
                }
                double f = 2 * dot / vv;
                for (int i = k; i < m; i++) {
                    a[i][j] -= f * v[i];
                }
            }
            double dot = 0;
            for (int i = k; i < m; i++) {
                dot += v[i] * b[i];
            }
            double f = 2 * dot / vv;
            for (int i = k; i < m; i++) {
                b[i] -= f * v[i];
            }
        }
        double[] c = new double[n];
        for (int k = n - 1; k >= 0; k--) {
            double s = b[k];
            for (int j = k + 1; j < n; j++) {
                s -= a[k][j] * c[j];
            }
            if (Math.abs(a[k][k]) < 1e-300) {
                throw new IllegalArgumentException("x has fewer than " + n + " distinct values");
            }
            c[k] = s / a[k][k];
        }
        for (int j = 0; j < n; j++) { // c[j] multiplies (x/scale)^(degree-j)
            c[j] /= Math.pow(scale, degree - j);
        }
        return c;
    }

    /** {@code c0·x^d + ... + c_d}, highest degree first. */
    public static double evaluate(double[] c, double x) {
        double y = 0;
        for (double v : c) {
            y = y * x + v;
        }
        return y;
    }
}
