package dev.ditfn.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ditfn.weights.ConfigJson;

/**
 * diffusers' {@code FlowMatchEulerDiscreteScheduler} on the path where the caller hands it the sigmas
 * ({@code set_timesteps(sigmas=..., mu=...)}): it shifts them, dynamically with {@code use_dynamic_shifting}
 * ({@code time_shift(mu, ·)}, exponential or linear by {@code time_shift_type}) or statically
 * ({@code shift·σ / (1 + (shift − 1)·σ)}), stretches them so the last equals {@code shift_terminal} when that is set
 * (with two steps or more), appends 0, and steps {@code x += (σ_next − σ)·v}. The Karras, exponential and beta
 * spacings, inverted sigmas and stochastic sampling are refused when a config switches them on. Arithmetic in fp32
 * like the reference's float32 arrays.
 *
 * <p>Qwen-Image's pipeline ({@code QwenImagePipeline}) passes {@code sigmas = linspace(1, 1/S, S)} for S steps and
 * {@code mu = calculate_shift(image tokens, ...)} from the scheduler config's sequence-length and shift bounds
 * ({@link #mu}); its published config switches the dynamic exponential shift on with {@code shift_terminal = 0.02}.
 */
public final class FlowMatchEulerScheduler {
    private static final String FILE = "scheduler_config.json";
    private static final String[] UNSUPPORTED = {"invert_sigmas", "stochastic_sampling", "use_karras_sigmas",
        "use_exponential_sigmas", "use_beta_sigmas"};

    /** The {@code scheduler_config.json} fields that shape the sigmas. */
    public record Config(int numTrainTimesteps, float shift, boolean useDynamicShifting, float baseShift,
            float maxShift, int baseImageSeqLen, int maxImageSeqLen, Float shiftTerminal, String timeShiftType) {

        /** Reads a {@code scheduler_config.json}; absent or null keys take the diffusers constructor defaults. */
        public static Config fromJson(JsonNode json) {
            ConfigJson c = new ConfigJson(json, FILE);
            for (String unsupported : UNSUPPORTED) {
                if (c.bool(unsupported, false)) {
                    throw c.bad(unsupported + " = true is not supported by dit-fn's flow-match Euler scheduler");
                }
            }
            Config config = new Config(c.integer("num_train_timesteps", 1000), (float) c.number("shift", 1.0),
                    c.bool("use_dynamic_shifting", false), (float) c.number("base_shift", 0.5),
                    (float) c.number("max_shift", 1.15), c.integer("base_image_seq_len", 256),
                    c.integer("max_image_seq_len", 4096),
                    c.has("shift_terminal") ? Float.valueOf((float) c.number("shift_terminal")) : null,
                    c.string("time_shift_type", "exponential"));
            if (!config.timeShiftType.equals("exponential") && !config.timeShiftType.equals("linear")) {
                throw c.bad("time_shift_type = \"" + config.timeShiftType + "\" must be exponential or linear");
            }
            if (config.maxImageSeqLen <= config.baseImageSeqLen) {
                throw c.bad("max_image_seq_len = " + config.maxImageSeqLen + " must exceed base_image_seq_len = "
                        + config.baseImageSeqLen);
            }
            return config;
        }
    }

    private final Config config;

    public FlowMatchEulerScheduler(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    /**
     * The {@code mu} of the dynamic shift: diffusers' pipeline-side {@code calculate_shift} (shared by the Flux
     * and Qwen-Image pipelines), linear in the image token count through ({@code base_image_seq_len},
     * {@code base_shift}) and ({@code max_image_seq_len}, {@code max_shift}), not clamped.
     */
    public float mu(int imageTokens) {
        float m = (config.maxShift - config.baseShift) / (config.maxImageSeqLen - config.baseImageSeqLen);
        float b = config.baseShift - m * config.baseImageSeqLen;
        return imageTokens * m + b;
    }

    /**
     * The {@code steps + 1} sigmas for a run over {@code imageTokens} packed tokens, ending with 0, from Qwen-Image's
     * {@code np.linspace(1, 1/steps, steps)} ({@link #numpyLinspace}).
     */
    public float[] sigmas(int steps, int imageTokens) {
        return sigmas(numpyLinspace(steps), imageTokens);
    }

    /**
     * The sigmas for the pipeline-given {@code base} ({@code set_timesteps(sigmas=base, mu=...)}), shifted,
     * stretched, with 0 appended. Timesteps are {@code num_train_timesteps · sigma}.
     */
    public float[] sigmas(float[] base, int imageTokens) {
        int steps = base.length;
        checkSteps(steps);
        float[] s = java.util.Arrays.copyOf(base, steps + 1);
        float mu = mu(imageTokens);
        for (int i = 0; i < steps; i++) {
            s[i] = config.useDynamicShifting ? timeShift(mu, s[i])
                    : config.shift * s[i] / (1 + (config.shift - 1) * s[i]);
        }
        // One step's sigma is first and last: upstream's stretch divides 0 by 0 there; the step runs from 1 to 0.
        // upstream tests `if shift_terminal:`, so 0 stretches nothing, as absent does
        if (config.shiftTerminal != null && config.shiftTerminal != 0f && steps > 1) {
            float scale = (1 - s[steps - 1]) / (1 - config.shiftTerminal);
            for (int i = 0; i < steps; i++) {
                s[i] = 1 - (1 - s[i]) / scale;
            }
        }
        s[steps] = 0f;
        return s;
    }

    /** {@code np.linspace(1.0, 1/steps, steps)}: float64 arithmetic, then cast to float32. */
    public static float[] numpyLinspace(int steps) {
        checkSteps(steps);
        float[] s = new float[steps];
        for (int i = 0; i < steps; i++) {
            double end = 1.0 / steps;
            s[i] = (float) (steps == 1 ? 1.0 : 1.0 + (end - 1.0) * i / (steps - 1));
        }
        return s;
    }

    /**
     * {@code torch.linspace(1.0, 1/steps, steps)} in float32, as torch's CPU kernel computes it: a float32 step, the
     * first half counted from the start, the second half back from the end (Z-Image's default sigmas).
     */
    public static float[] torchLinspace(int steps) {
        checkSteps(steps);
        float start = 1f;
        float end = (float) (1.0 / steps);
        float[] s = new float[steps];
        if (steps == 1) {
            s[0] = start;
            return s;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            s[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return s;
    }

    private static void checkSteps(int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, was " + steps);
        }
    }

    private float timeShift(float mu, float t) {
        if (config.timeShiftType.equals("linear")) {
            return mu / (mu + (1 / t - 1));
        }
        float e = (float) Math.exp(mu);
        return e / (e + (1 / t - 1));
    }

    /** One Euler step in fp32, in place: {@code x += (sigmaNext - sigma) · v}. */
    public static void step(float[] x, float[] velocity, float sigma, float sigmaNext) {
        if (x.length != velocity.length) {
            throw new IllegalArgumentException("latents and velocity differ in size: " + x.length + " vs "
                    + velocity.length);
        }
        float dt = sigmaNext - sigma;
        for (int i = 0; i < x.length; i++) {
            x[i] += dt * velocity[i];
        }
    }
}
