package dev.ditfn.cache.cachedit;

import dev.ditfn.cache.Decision;
import dev.ditfn.cache.RelativeL1;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * DBCache's per-branch decision state for one request: cache-dit v1.3.0's {@code CachedContextManager.can_cache}
 * plus the per-branch bookkeeping of {@code CachedContext} (spec §2.3, §2.4). Create one per request and branch; both
 * branches share the step index but nothing else.
 *
 * <p>Checks, in order: warmup → SCM mask → max cached → max continuous → accumulated diff → threshold ≤ 0 → Fn
 * residual similarity. The Fn buffer ({@code Rprev}) is written only on computed steps.
 */
public final class DbCachePolicy {
    private final DbCacheConfig config;
    private final int[] mask;
    private final int warmupLimit;
    private final Double accumulatedLimit;

    private float[] rprev;
    private final List<Integer> cachedSteps = new ArrayList<>();
    private final List<Integer> computedSteps = new ArrayList<>();
    private final List<Double> diffs = new ArrayList<>();
    private double accumulatedDiff;
    private int continuousCounter;

    /**
     * @param config the settings (validate them first)
     * @param mask   the steps computation mask for this request, null when SCM is off (see
     *               {@link DbCacheConfig#stepsMask(int)})
     */
    public DbCachePolicy(DbCacheConfig config, int[] mask) {
        this.config = Objects.requireNonNull(config, "config");
        if (mask != null) {
            for (int m : mask) {
                if (m != 0 && m != 1) {
                    throw new IllegalArgumentException("scm_steps_mask must contain only 0 and 1, got " + m);
                }
            }
        }
        this.mask = mask == null ? null : mask.clone();
        this.warmupLimit = mask == null ? config.maxWarmupSteps()
                : Math.min(config.maxWarmupSteps(), StepsMask.leadingOnes(mask));
        this.accumulatedLimit = config.accumulatedLimit();
    }

    /**
     * Decides one call of this branch at denoising step {@code step} (0-based), given the residual of the Fn blocks
     * ({@code HF − H0}, image stream). On a compute verdict {@code fnResidual} is copied in as the new Fn buffer; on a
     * cache verdict the step is recorded as cached and the continuous counter advances.
     */
    public Decision decide(int step, float[] fnResidual) {
        Objects.requireNonNull(fnResidual, "fnResidual");
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        Decision d = check(step, fnResidual);
        if (d.cache()) {
            addCachedStep(step);
        } else {
            computedSteps.add(step);
            rprev = fnResidual.clone();
            if (config.cleanContinuousCounter()) {
                continuousCounter = 0;
            }
        }
        return d;
    }

    private Decision check(int step, float[] fnResidual) {
        // 1. warmup: step in range(0, W', interval)
        if (step < warmupLimit && step % config.warmupInterval() == 0) {
            return Decision.compute("warmup");
        }
        // 2. SCM mask (a step past the mask's end counts as 0, as is_in_full_compute_steps)
        if (mask != null) {
            if (step < mask.length && mask[step] == 1) {
                return Decision.compute("mask");
            }
            if (config.staticScm()) {
                // a mask that starts with 0 has nothing to reuse yet: compute, so the bookkeeping matches what ran
                return rprev == null ? Decision.compute("no_residual") : Decision.reuse("static_mask", null);
            }
        }
        // 3. max cached
        int maxCached = config.maxCachedSteps();
        if (maxCached >= 0 && cachedSteps.size() >= maxCached) {
            return Decision.compute("max_cached");
        }
        // 4. max continuous (the only place upstream resets the counter)
        int maxContinuous = config.maxContinuousCachedSteps();
        if (maxContinuous >= 0 && continuousCounter >= maxContinuous) {
            continuousCounter = 0;
            return Decision.compute("max_continuous");
        }
        // 5. accumulated diff
        if (accumulatedLimit != null && accumulatedDiff >= accumulatedLimit) {
            return Decision.compute("accumulated");
        }
        // 6. threshold <= 0: never cache
        double threshold = config.residualDiffThreshold();
        if (threshold <= 0.0) {
            return Decision.compute("disabled");
        }
        // 7. similarity against the last computed step's Fn residual
        if (rprev == null) {
            return Decision.compute("no_residual");
        }
        if (threshold >= 1.0) {
            return Decision.reuse("similar", null);
        }
        if (rprev.length != fnResidual.length) {
            return Decision.compute("no_residual");
        }
        double diff = RelativeL1.of(fnResidual, rprev, 0);
        diffs.add(diff);
        if (diff > 0.0) {
            accumulatedDiff += diff;
        }
        return diff < threshold ? Decision.reuse("similar", diff) : Decision.compute("threshold", diff);
    }

    /** cache-dit's {@code add_cached_step}, or a plain run length with {@code clean_continuous_counter}. */
    private void addCachedStep(int step) {
        if (config.cleanContinuousCounter()) {
            continuousCounter++;
        } else if (cachedSteps.isEmpty()) {
            continuousCounter += 1;
        } else if (step - cachedSteps.get(cachedSteps.size() - 1) == 1) {
            continuousCounter += continuousCounter == 0 ? 2 : 1;
        }
        cachedSteps.add(step);
    }

    /** Steps this branch cached, in call order. */
    public List<Integer> cachedSteps() {
        return Collections.unmodifiableList(new ArrayList<>(cachedSteps));
    }

    /** Steps this branch computed, in call order. */
    public List<Integer> computedSteps() {
        return Collections.unmodifiableList(new ArrayList<>(computedSteps));
    }

    /**
     * The relative L1 diffs actually measured (check 7), in call order. Upstream's sentinels (-1 for threshold ≥ 1,
     * -2 for a shape mismatch) are not recorded.
     */
    public List<Double> diffs() {
        return Collections.unmodifiableList(new ArrayList<>(diffs));
    }

    /** Sum of the positive measured diffs (what check 5 compares). */
    public double accumulatedDiff() {
        return accumulatedDiff;
    }

    /** The continuous-cached-steps counter that check 4 compares. */
    public int continuousCounter() {
        return continuousCounter;
    }

    /** The warmup cap in force: {@code max_warmup_steps}, cut to the mask's leading 1s when a mask is set. */
    public int warmupLimit() {
        return warmupLimit;
    }
}
