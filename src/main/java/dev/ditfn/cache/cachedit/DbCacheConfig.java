package dev.ditfn.cache.cachedit;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Objects;

/**
 * Cache-DiT DBCache settings with vLLM-Omni's keys and defaults (spec §1.2, §2.1). vLLM-Omni differs from the
 * cache-dit library defaults in {@code Fn_compute_blocks} (1, library 8), {@code max_warmup_steps} (4, library 8),
 * {@code max_continuous_cached_steps} (3, library -1) and {@code residual_diff_threshold} (0.24, library 0.08).
 *
 * @param fnComputeBlocks                     {@code Fn_compute_blocks}: leading blocks run on every step (≥ 1)
 * @param bnComputeBlocks                     {@code Bn_compute_blocks}: trailing blocks run on every step (≥ 0)
 * @param maxWarmupSteps                      {@code max_warmup_steps}: steps {@code range(0, W, interval)} always
 *                                            compute
 * @param warmupInterval                      {@code warmup_interval} (≥ 1)
 * @param maxCachedSteps                      {@code max_cached_steps}: per branch per request, -1 = unlimited
 * @param maxContinuousCachedSteps            {@code max_continuous_cached_steps}: -1 = unlimited
 * @param residualDiffThreshold               {@code residual_diff_threshold}: cache iff diff &lt; it; ≤ 0 never
 *                                            caches, ≥ 1 always caches
 * @param maxAccumulatedResidualDiffThreshold {@code max_accumulated_residual_diff_threshold}: null (or ≤ 0, as
 *                                            upstream) = off
 * @param enableTaylorseer                    {@code enable_taylorseer}
 * @param taylorseerOrder                     {@code taylorseer_order} (1 or 2)
 * @param scmStepsMaskPolicy                  {@code scm_steps_mask_policy}: null / {@code none} = off, {@code slow},
 *                                            {@code medium}, {@code fast}, {@code ultra}, or {@code custom} (use
 *                                            {@code scmStepsMask})
 * @param scmStepsPolicy                      {@code scm_steps_policy}: {@code dynamic} (null means dynamic) or
 *                                            {@code static}
 * @param scmStepsMask                        {@code scm_steps_mask}: the custom mask of 0/1, only with policy
 *                                            {@code custom}
 * @param cleanContinuousCounter              {@code clean_continuous_counter}: false replicates cache-dit's
 *                                            continuous-counter quirk (spec §2.4); true resets it on every compute
 */
public record DbCacheConfig(
        int fnComputeBlocks,
        int bnComputeBlocks,
        int maxWarmupSteps,
        int warmupInterval,
        int maxCachedSteps,
        int maxContinuousCachedSteps,
        double residualDiffThreshold,
        Double maxAccumulatedResidualDiffThreshold,
        boolean enableTaylorseer,
        int taylorseerOrder,
        String scmStepsMaskPolicy,
        String scmStepsPolicy,
        int[] scmStepsMask,
        boolean cleanContinuousCounter) {

    public static final String POLICY_NONE = "none";
    public static final String POLICY_CUSTOM = "custom";
    public static final String DYNAMIC = "dynamic";
    public static final String STATIC = "static";

    public DbCacheConfig {
        if (scmStepsPolicy == null) {
            scmStepsPolicy = DYNAMIC;
        }
        scmStepsMask = scmStepsMask == null ? null : scmStepsMask.clone();
    }

    /** vLLM-Omni's defaults: {@code F1B0_W4I1M-1MC3_R0.24}, TaylorSeer off (order 1), SCM off, upstream counter. */
    public static DbCacheConfig defaults() {
        return new DbCacheConfig(1, 0, 4, 1, -1, 3, 0.24, null, false, 1, null, DYNAMIC, null, false);
    }

    public static Builder builder() {
        return new Builder(defaults());
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    @Override
    public int[] scmStepsMask() {
        return scmStepsMask == null ? null : scmStepsMask.clone();
    }

    /** Whether a steps computation mask applies (policy set and not {@code none}). */
    public boolean scmEnabled() {
        return scmStepsMaskPolicy != null && !POLICY_NONE.equals(scmStepsMaskPolicy);
    }

    public boolean staticScm() {
        return STATIC.equals(scmStepsPolicy);
    }

    /** The accumulated-diff limit in force, or null when off (unset or ≤ 0, as cache-dit's {@code can_cache}). */
    public Double accumulatedLimit() {
        Double t = maxAccumulatedResidualDiffThreshold;
        return t != null && t > 0.0 ? t : null;
    }

    /**
     * The steps computation mask for a request of {@code steps} steps: null when SCM is off, the custom mask for
     * {@code custom}, otherwise {@link StepsMask#forPolicy}.
     */
    public int[] stepsMask(int steps) {
        if (!scmEnabled()) {
            return null;
        }
        if (POLICY_CUSTOM.equals(scmStepsMaskPolicy)) {
            if (scmStepsMask == null) {
                throw new IllegalArgumentException("scm_steps_mask is required when scm_steps_mask_policy is custom");
            }
            return scmStepsMask.clone();
        }
        return StepsMask.forPolicy(scmStepsMaskPolicy, steps);
    }

    /**
     * Checks the settings against a transformer of {@code blocks} cached blocks and a request of {@code steps}
     * denoising steps. Every message starts with the offending vLLM-Omni key.
     *
     * @throws IllegalArgumentException on the first violation
     */
    public void validate(int blocks, int steps) {
        validate(blocks);
        if (steps < 1) {
            throw bad("num_inference_steps must be >= 1, got " + steps);
        }
        String p = scmStepsMaskPolicy;
        if (POLICY_CUSTOM.equals(p) && scmStepsMask.length != steps) {
            throw bad("scm_steps_mask length must equal num_inference_steps " + steps + ", got "
                    + scmStepsMask.length);
        }
        if (p != null && StepsMask.isPreset(p)) {
            try {
                StepsMask.forPolicy(p, steps);
            } catch (IllegalArgumentException e) {
                throw bad("scm_steps_mask_policy " + p + ": " + e.getMessage());
            }
        }
    }

    /**
     * The checks that hold whatever the step count: against a transformer of {@code blocks} cached blocks. Every
     * message starts with the offending vLLM-Omni key.
     *
     * @throws IllegalArgumentException on the first violation
     */
    public void validate(int blocks) {
        if (fnComputeBlocks < 1) {
            throw bad("Fn_compute_blocks must be >= 1, got " + fnComputeBlocks);
        }
        if (bnComputeBlocks < 0) {
            throw bad("Bn_compute_blocks must be >= 0, got " + bnComputeBlocks);
        }
        if (fnComputeBlocks + bnComputeBlocks > blocks) {
            throw bad("Fn_compute_blocks + Bn_compute_blocks must be <= the transformer's " + blocks + " blocks, got "
                    + fnComputeBlocks + " + " + bnComputeBlocks);
        }
        if (maxWarmupSteps < 0) {
            throw bad("max_warmup_steps must be >= 0, got " + maxWarmupSteps);
        }
        if (warmupInterval < 1) {
            throw bad("warmup_interval must be >= 1, got " + warmupInterval);
        }
        if (maxCachedSteps < -1) {
            throw bad("max_cached_steps must be >= -1, got " + maxCachedSteps);
        }
        if (maxContinuousCachedSteps < -1) {
            throw bad("max_continuous_cached_steps must be >= -1, got " + maxContinuousCachedSteps);
        }
        if (!(residualDiffThreshold >= 0) || Double.isInfinite(residualDiffThreshold)) {
            throw bad("residual_diff_threshold must be >= 0, got " + residualDiffThreshold);
        }
        if (maxAccumulatedResidualDiffThreshold != null
                && (!(maxAccumulatedResidualDiffThreshold >= 0) || maxAccumulatedResidualDiffThreshold.isInfinite())) {
            throw bad("max_accumulated_residual_diff_threshold must be >= 0 when set (0 = off), got "
                    + maxAccumulatedResidualDiffThreshold);
        }
        if (taylorseerOrder != 1 && taylorseerOrder != 2) {
            throw bad("taylorseer_order must be 1 or 2, got " + taylorseerOrder);
        }
        if (!DYNAMIC.equals(scmStepsPolicy) && !STATIC.equals(scmStepsPolicy)) {
            throw bad("scm_steps_policy must be dynamic or static, got " + scmStepsPolicy);
        }
        String p = scmStepsMaskPolicy;
        if (p != null && !(p.equals(POLICY_NONE) || p.equals(POLICY_CUSTOM) || StepsMask.isPreset(p))) {
            throw bad("scm_steps_mask_policy must be one of none, slow, medium, fast, ultra, custom, got " + p);
        }
        if (POLICY_CUSTOM.equals(p)) {
            if (scmStepsMask == null) {
                throw bad("scm_steps_mask is required when scm_steps_mask_policy is custom");
            }
            for (int m : scmStepsMask) {
                if (m != 0 && m != 1) {
                    throw bad("scm_steps_mask must contain only 0 and 1, got " + m);
                }
            }
        } else if (scmStepsMask != null) {
            throw bad("scm_steps_mask is only used with scm_steps_mask_policy custom, got policy " + p);
        }
    }

    private static IllegalArgumentException bad(String message) {
        return new IllegalArgumentException(message);
    }

    /**
     * The cache-dit benchmark name, e.g. {@code F1B0_W4I1M-1MC3_R0.24_T0O1}:
     * {@code F{Fn}B{Bn}_W{W}I{interval}M{max}MC{maxcont}_R{thr}_T{0|1}O{order}}, plus
     * {@code _SCM-{policy}-{static|dynamic}} when a mask is set. The threshold is printed as Python's {@code str}
     * would. (cache-dit's own {@code strify} clamps M and MC at 0 and spells the mask out bit by bit; see the report.)
     */
    public String describe() {
        StringBuilder sb = new StringBuilder()
                .append('F').append(fnComputeBlocks)
                .append('B').append(bnComputeBlocks)
                .append("_W").append(maxWarmupSteps)
                .append('I').append(warmupInterval)
                .append('M').append(maxCachedSteps)
                .append("MC").append(maxContinuousCachedSteps)
                .append("_R").append(pythonFloat(residualDiffThreshold))
                .append("_T").append(enableTaylorseer ? 1 : 0)
                .append('O').append(taylorseerOrder);
        if (scmEnabled()) {
            sb.append("_SCM-").append(scmStepsMaskPolicy).append('-').append(scmStepsPolicy);
        }
        return sb.toString();
    }

    /** Python's {@code str(float)} for the usual plain-decimal range. */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return (long) d + ".0";
        }
        double a = Math.abs(d);
        if (a >= 1e-4 && a < 1e16) {
            return BigDecimal.valueOf(d).toPlainString();
        }
        return Double.toString(d);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof DbCacheConfig c)) {
            return false;
        }
        return fnComputeBlocks == c.fnComputeBlocks
                && bnComputeBlocks == c.bnComputeBlocks
                && maxWarmupSteps == c.maxWarmupSteps
                && warmupInterval == c.warmupInterval
                && maxCachedSteps == c.maxCachedSteps
                && maxContinuousCachedSteps == c.maxContinuousCachedSteps
                && Double.compare(residualDiffThreshold, c.residualDiffThreshold) == 0
                && Objects.equals(maxAccumulatedResidualDiffThreshold, c.maxAccumulatedResidualDiffThreshold)
                && enableTaylorseer == c.enableTaylorseer
                && taylorseerOrder == c.taylorseerOrder
                && Objects.equals(scmStepsMaskPolicy, c.scmStepsMaskPolicy)
                && Objects.equals(scmStepsPolicy, c.scmStepsPolicy)
                && Arrays.equals(scmStepsMask, c.scmStepsMask)
                && cleanContinuousCounter == c.cleanContinuousCounter;
    }

    @Override
    public int hashCode() {
        return Objects.hash(fnComputeBlocks, bnComputeBlocks, maxWarmupSteps, warmupInterval, maxCachedSteps,
                maxContinuousCachedSteps, residualDiffThreshold, maxAccumulatedResidualDiffThreshold, enableTaylorseer,
                taylorseerOrder, scmStepsMaskPolicy, scmStepsPolicy, cleanContinuousCounter)
                * 31 + Arrays.hashCode(scmStepsMask);
    }

    @Override
    public String toString() {
        return "DbCacheConfig[" + describe()
                + ", maxAccumulatedResidualDiffThreshold=" + maxAccumulatedResidualDiffThreshold
                + ", scmStepsMask=" + Arrays.toString(scmStepsMask)
                + ", cleanContinuousCounter=" + cleanContinuousCounter + "]";
    }

    /** Mutable builder seeded from a config ({@link #builder()} starts from {@link #defaults()}). */
    public static final class Builder {
        private int fn;
        private int bn;
        private int warmup;
        private int interval;
        private int maxCached;
        private int maxContinuous;
        private double threshold;
        private Double accumulated;
        private boolean taylorseer;
        private int order;
        private String maskPolicy;
        private String stepsPolicy;
        private int[] mask;
        private boolean clean;

        private Builder(DbCacheConfig c) {
            fn = c.fnComputeBlocks;
            bn = c.bnComputeBlocks;
            warmup = c.maxWarmupSteps;
            interval = c.warmupInterval;
            maxCached = c.maxCachedSteps;
            maxContinuous = c.maxContinuousCachedSteps;
            threshold = c.residualDiffThreshold;
            accumulated = c.maxAccumulatedResidualDiffThreshold;
            taylorseer = c.enableTaylorseer;
            order = c.taylorseerOrder;
            maskPolicy = c.scmStepsMaskPolicy;
            stepsPolicy = c.scmStepsPolicy;
            mask = c.scmStepsMask;
            clean = c.cleanContinuousCounter;
        }

        public Builder fnComputeBlocks(int v) {
            fn = v;
            return this;
        }

        public Builder bnComputeBlocks(int v) {
            bn = v;
            return this;
        }

        public Builder maxWarmupSteps(int v) {
            warmup = v;
            return this;
        }

        public Builder warmupInterval(int v) {
            interval = v;
            return this;
        }

        public Builder maxCachedSteps(int v) {
            maxCached = v;
            return this;
        }

        public Builder maxContinuousCachedSteps(int v) {
            maxContinuous = v;
            return this;
        }

        public Builder residualDiffThreshold(double v) {
            threshold = v;
            return this;
        }

        public Builder maxAccumulatedResidualDiffThreshold(Double v) {
            accumulated = v;
            return this;
        }

        public Builder enableTaylorseer(boolean v) {
            taylorseer = v;
            return this;
        }

        public Builder taylorseerOrder(int v) {
            order = v;
            return this;
        }

        public Builder scmStepsMaskPolicy(String v) {
            maskPolicy = v;
            return this;
        }

        public Builder scmStepsPolicy(String v) {
            stepsPolicy = v;
            return this;
        }

        public Builder scmStepsMask(int[] v) {
            mask = v == null ? null : v.clone();
            return this;
        }

        public Builder cleanContinuousCounter(boolean v) {
            clean = v;
            return this;
        }

        public DbCacheConfig build() {
            return new DbCacheConfig(fn, bn, warmup, interval, maxCached, maxContinuous, threshold, accumulated,
                    taylorseer, order, maskPolicy, stepsPolicy, mask, clean);
        }
    }
}
