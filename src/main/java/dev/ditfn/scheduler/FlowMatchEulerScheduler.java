package dev.ditfn.scheduler;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * diffusers' {@code FlowMatchEulerDiscreteScheduler} as Qwen-Image uses it: the pipeline passes
 * {@code sigmas = linspace(1, 1/S, S)}, the scheduler shifts them (dynamic exponential shift with
 * {@code mu} from the image token count, or a static shift), stretches them so the last equals
 * {@code shift_terminal} (with two steps or more), and appends 0. Arithmetic in fp32 like the reference's float32
 * arrays.
 */
public final class FlowMatchEulerScheduler {

    /** The {@code scheduler_config.json} fields that shape the sigmas. */
    public record Config(int numTrainTimesteps, float shift, boolean useDynamicShifting, float baseShift,
            float maxShift, int baseImageSeqLen, int maxImageSeqLen, Float shiftTerminal, String timeShiftType) {

        public static Config fromJson(JsonNode c) {
            JsonNode terminal = c.get("shift_terminal");
            Config config = new Config(c.path("num_train_timesteps").asInt(1000),
                    (float) c.path("shift").asDouble(1.0), c.path("use_dynamic_shifting").asBoolean(false),
                    (float) c.path("base_shift").asDouble(0.5), (float) c.path("max_shift").asDouble(1.15),
                    c.path("base_image_seq_len").asInt(256), c.path("max_image_seq_len").asInt(4096),
                    terminal == null || terminal.isNull() ? null : (float) terminal.asDouble(),
                    c.path("time_shift_type").asText("exponential"));
            for (String unsupported : new String[] {"invert_sigmas", "stochastic_sampling", "use_karras_sigmas",
                "use_exponential_sigmas", "use_beta_sigmas"}) {
                if (c.path(unsupported).asBoolean(false)) {
                    throw new IllegalArgumentException("scheduler_config.json: " + unsupported
                            + "=true is not supported by dit-fn's flow-match Euler scheduler");
                }
            }
            if (!config.timeShiftType.equals("exponential") && !config.timeShiftType.equals("linear")) {
                throw new IllegalArgumentException("scheduler_config.json: time_shift_type must be exponential or linear, "
                        + "was " + config.timeShiftType);
            }
            if (config.maxImageSeqLen <= config.baseImageSeqLen) {
                throw new IllegalArgumentException("scheduler_config.json: max_image_seq_len must exceed base_image_seq_len");
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

    /** Qwen-Image's {@code calculate_shift}: linear in the image token count, not clamped. */
    public float mu(int imageTokens) {
        float m = (config.maxShift - config.baseShift) / (config.maxImageSeqLen - config.baseImageSeqLen);
        float b = config.baseShift - m * config.baseImageSeqLen;
        return imageTokens * m + b;
    }

    /**
     * The {@code steps + 1} sigmas for a run over {@code imageTokens} packed tokens, ending with 0. Timesteps are
     * {@code 1000 · sigma}; the transformer takes sigma itself.
     */
    public float[] sigmas(int steps, int imageTokens) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, was " + steps);
        }
        float[] s = new float[steps + 1];
        for (int i = 0; i < steps; i++) {
            // np.linspace(1.0, 1/steps, steps) in float64, then cast to float32
            double start = 1.0;
            double end = 1.0 / steps;
            s[i] = (float) (steps == 1 ? start : start + (end - start) * i / (steps - 1));
        }
        float mu = mu(imageTokens);
        for (int i = 0; i < steps; i++) {
            s[i] = config.useDynamicShifting ? timeShift(mu, s[i])
                    : config.shift * s[i] / (1 + (config.shift - 1) * s[i]);
        }
        // One step's sigma is first and last: upstream's stretch divides 0 by 0 there; the step runs from 1 to 0.
        if (config.shiftTerminal != null && steps > 1) {
            float scale = (1 - s[steps - 1]) / (1 - config.shiftTerminal);
            for (int i = 0; i < steps; i++) {
                s[i] = 1 - (1 - s[i]) / scale;
            }
        }
        s[steps] = 0f;
        return s;
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
