package dev.ditfn.cache.teacache;

import dev.ditfn.cache.Decision;
import dev.ditfn.cache.RelativeL1;

/**
 * TeaCache's decision for one branch of one request, as vLLM-Omni implements it: the relative L1 change of block
 * 0's modulated image input between consecutive calls, rescaled by the polynomial, accumulated as {@code |p(d)|};
 * reuse while the sum stays below the threshold, compute (and reset the sum) when it reaches it. The first call
 * always computes; with {@code force_last_step} so does the last step. The previous input is updated every call.
 */
public final class TeaCachePolicy {
    /** vLLM-Omni's epsilon in the denominator of the relative L1 distance. */
    static final double EPSILON = 1e-8;

    private final TeaCacheConfig config;
    private final int steps;
    private float[] previous;
    private double accumulated;

    public TeaCachePolicy(TeaCacheConfig config, int steps) {
        this.config = config;
        this.steps = steps;
    }

    public Decision decide(int step, float[] modulatedInput) {
        Decision d;
        if (previous == null) {
            accumulated = 0;
            d = Decision.compute("first");
        } else if (config.forceLastStep() && step == steps - 1) {
            accumulated = 0;
            d = Decision.compute("last_step");
        } else {
            accumulated += Math.abs(config.rescale(RelativeL1.of(modulatedInput, previous, EPSILON)));
            if (accumulated < config.relL1Thresh()) {
                d = Decision.reuse("similar", accumulated);
            } else {
                d = Decision.compute("threshold", accumulated);
                accumulated = 0;
            }
        }
        previous = modulatedInput.clone();
        return d;
    }
}
