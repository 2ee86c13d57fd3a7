package dev.ditfn.app;

import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.RequestDefaults;

/**
 * The defaults a request that leaves size or steps out is served with: the configured {@code dit.generate.*} keys,
 * else the model's own ({@link RequestDefaults}, with the snapshot's {@code _dit_fn_defaults}).
 */
public final class ServedDefaults {
    private ServedDefaults() {
    }

    /** Width and height of a request that gives no size. */
    public static int size(DitConfig.Generate limits, RequestDefaults model) {
        return limits.defaultSize().orElse(model.size());
    }

    /** Steps of a request that gives none. */
    public static int steps(DitConfig.Generate limits, RequestDefaults model) {
        return limits.defaultSteps().orElse(model.steps());
    }

    /** The guidance scale of a request that gives none. */
    public static double guidance(DitConfig.Generate limits, RequestDefaults model) {
        return limits.defaultTrueCfgScale().orElse((double) model.cfgScale());
    }

    /**
     * Checks, once at load, that a request leaving size and steps out would be served: the defaults must fit the
     * configured limits and the model's size multiple, or every such request would fail naming a field its client
     * never sent.
     *
     * @throws IllegalArgumentException naming where the default comes from
     */
    public static void check(DitConfig.Generate limits, RequestDefaults model, int multiple) {
        int side = size(limits, model);
        if (side < limits.minSize() || side > limits.maxSize() || side % multiple != 0) {
            String source = limits.defaultSize().isPresent() ? "dit.generate.default-size"
                    : "the model's default size (" + RequestDefaults.SNAPSHOT_KEY + ".size, else 256)";
            throw new IllegalArgumentException(source + " " + side + " must be a multiple of " + multiple
                    + " between dit.generate.min-size " + limits.minSize() + " and max-size " + limits.maxSize());
        }
        int steps = steps(limits, model);
        if (steps > limits.maxSteps()) {
            String source = limits.defaultSteps().isPresent() ? "dit.generate.default-steps"
                    : "the model's default steps (" + RequestDefaults.SNAPSHOT_KEY + ".num_inference_steps)";
            throw new IllegalArgumentException(source + " " + steps + " exceeds dit.generate.max-steps "
                    + limits.maxSteps());
        }
    }
}
