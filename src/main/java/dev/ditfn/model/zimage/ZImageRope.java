package dev.ditfn.model.zimage;

/**
 * Z-Image's 3-axis RoPE tables (zimage-edit-spec A3.5, diffusers {@code RopeEmbedder}): for a token with position ids
 * {@code (p0, p1, p2)}, pair {@code j} of a head takes its angle from the axis that owns it (pairs of axis 0 first,
 * {@code axes_dims[a] / 2} each), {@code θ = float32(p · ω)} with {@code ω = 1 / θ_base^(2j'/d_a)} in float64, as
 * upstream's float64 outer product cast to float32. Tables are float32 {@code [tokens, head_dim / 2]}.
 */
public final class ZImageRope {
    private final double[][] omegas;
    private final int[] axesLens;
    private final int pairs;

    public ZImageRope(ZImageTransformerConfig config) {
        int[] dims = config.axesDims();
        this.axesLens = config.axesLens();
        this.omegas = new double[dims.length][];
        int total = 0;
        for (int a = 0; a < dims.length; a++) {
            omegas[a] = new double[dims[a] / 2];
            for (int j = 0; j < dims[a] / 2; j++) {
                omegas[a][j] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * j) / dims[a]);
            }
            total += dims[a] / 2;
        }
        this.pairs = total;
    }

    /** cos and sin of every token's angles, row-major {@code [tokens, head_dim / 2]}. */
    public record Tables(float[] cos, float[] sin, int tokens, int pairs) {
        public long[] shape() {
            return new long[] {tokens, pairs};
        }
    }

    /** @param ids {@code [tokens][3]} position ids; each must be below its axis' {@code axes_lens} */
    public Tables tables(int[][] ids) {
        float[] cos = new float[ids.length * pairs];
        float[] sin = new float[ids.length * pairs];
        for (int t = 0; t < ids.length; t++) {
            int k = t * pairs;
            for (int a = 0; a < omegas.length; a++) {
                int p = ids[t][a];
                if (p < 0 || p >= axesLens[a]) {
                    throw new IllegalArgumentException("position " + p + " on RoPE axis " + a + " is outside the"
                            + " model's table of " + axesLens[a] + " (axes_lens)");
                }
                for (double omega : omegas[a]) {
                    float angle = (float) (p * omega);
                    cos[k] = (float) Math.cos(angle);
                    sin[k++] = (float) Math.sin(angle);
                }
            }
        }
        return new Tables(cos, sin, ids.length, pairs);
    }
}
