package dev.ditfn.dit;

import dev.ditfn.weights.RandomWeights;

/**
 * The sinusoidal timestep projection that DiTs feed to their timestep MLP ({@code get_timestep_embedding} with 256
 * channels, {@code [cos, sin]} order, {@code max_period} 10000, no frequency shift), and the rule that keeps a
 * generated model's timestep MLP smooth.
 */
public final class TimestepSinusoid {
    /** Channels of the projection: 128 frequencies, cosines then sines. */
    public static final int CHANNELS = 256;

    private TimestepSinusoid() {
    }

    /** {@code f_k = exp(-ln(10000)·k/128)}, {@code k = 0..127}, in fp32 as upstream computes them. */
    public static float[] frequencies() {
        int half = CHANNELS / 2;
        float[] f = new float[half];
        float logPeriod = (float) -Math.log(10000.0);
        for (int k = 0; k < half; k++) {
            f[k] = (float) Math.exp(logPeriod * k / half);
        }
        return f;
    }

    /**
     * Writes {@code prefix.weight [out, 256]} (no bias) for the MLP's first linear. A trained model's timestep
     * embedding is smooth in sigma. Random weights over all 128 frequencies would make it jump between adjacent
     * steps (the fastest channel turns 1000 rad per unit of sigma), so generated models keep only the channels that a
     * 1/30 step in sigma moves by under half a radian.
     */
    public static void writeSmoothFirstLinear(RandomWeights rnd, String prefix, long out) {
        int half = CHANNELS / 2;
        rnd.linearScaledColumns(prefix, out, CHANNELS,
                j -> 1000.0 / 30 * Math.exp(-Math.log(10000) * (j % half) / half) < 0.5 ? 1 : 0);
    }
}
