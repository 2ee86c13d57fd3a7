package dev.ditfn.cache;

import dev.ditfn.cache.cachedit.DbCacheConfig;
import dev.ditfn.cache.teacache.TeaCacheConfig;
import dev.ditfn.config.DitConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The effective step-cache settings of one request: the configured defaults with the request's overrides applied.
 * Both come through one parser keyed by vLLM-Omni's names, so a bad value gets the same message whether it came
 * from configuration (startup fails) or from a request (HTTP 400).
 */
public record CacheSettings(String backend, TeaCacheConfig teaCache, DbCacheConfig dbCache) {
    public static final String NONE = "none";
    public static final String TEA_CACHE = "tea_cache";
    public static final String CACHE_DIT = "cache_dit";
    public static final Set<String> BACKENDS = Set.of(NONE, TEA_CACHE, CACHE_DIT);

    static final List<String> TEA_KEYS = List.of("rel_l1_thresh", "coefficients", "force_last_step");
    static final List<String> DBCACHE_KEYS = List.of("Fn_compute_blocks", "Bn_compute_blocks", "max_warmup_steps",
            "warmup_interval", "max_cached_steps", "max_continuous_cached_steps", "residual_diff_threshold",
            "max_accumulated_residual_diff_threshold", "enable_taylorseer", "taylorseer_order",
            "scm_steps_mask_policy", "scm_steps_policy", "scm_steps_mask", "clean_continuous_counter");

    /** {@code rescale(d) = d}: stands in for a model family's coefficients where none is known. */
    private static final double[] IDENTITY_RESCALE = {0, 0, 0, 1, 0};

    /** A bad setting: {@code key} is the vLLM-Omni name of the field at fault. */
    public static class InvalidSettingException extends IllegalArgumentException {
        private final String key;

        InvalidSettingException(String key, String message) {
            super(message);
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /** The configured defaults as a key/value map (the form requests override). */
    public static Map<String, Object> defaults(DitConfig.Cache c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", c.backend());
        m.put("rel_l1_thresh", c.relL1Thresh());
        m.put("coefficients", c.coefficients().map(List::copyOf).orElse(null));
        m.put("force_last_step", c.forceLastStep());
        m.put("Fn_compute_blocks", c.fnComputeBlocks());
        m.put("Bn_compute_blocks", c.bnComputeBlocks());
        m.put("max_warmup_steps", c.maxWarmupSteps());
        m.put("warmup_interval", c.warmupInterval());
        m.put("max_cached_steps", c.maxCachedSteps());
        m.put("max_continuous_cached_steps", c.maxContinuousCachedSteps());
        m.put("residual_diff_threshold", c.residualDiffThreshold());
        m.put("max_accumulated_residual_diff_threshold", c.maxAccumulatedResidualDiffThreshold().orElse(null));
        m.put("enable_taylorseer", c.enableTaylorseer());
        m.put("taylorseer_order", c.taylorseerOrder());
        m.put("scm_steps_mask_policy", c.scmStepsMaskPolicy());
        m.put("scm_steps_policy", c.scmStepsPolicy());
        m.put("scm_steps_mask", c.scmStepsMask().map(List::copyOf).orElse(null));
        m.put("clean_continuous_counter", c.cleanContinuousCounter());
        return m;
    }

    /**
     * A request's settings: {@code base} with {@code overrides} applied (any key of {@link #defaults}; unknown keys are
     * refused), parsed and checked against the model and the step count. DBCache's Fn/Bn must fall on the segment
     * boundaries the model was loaded with: sessions are never created for a request.
     */
    public static CacheSettings resolve(Map<String, Object> base, Map<String, Object> overrides, CacheTarget target,
            int steps) {
        CacheSettings s = resolve(base, overrides, target.blocks(), target.teaCacheCoefficients(), steps);
        if (s.backend.equals(CACHE_DIT)) {
            int fn = s.dbCache.fnComputeBlocks();
            int bn = s.dbCache.bnComputeBlocks();
            if (!target.partition().isBoundary(fn)) {
                throw new InvalidSettingException("Fn_compute_blocks", "Fn_compute_blocks " + fn + " is not served: the"
                        + " transformer was loaded with " + target.partition() + " (configure more splits with"
                        + " dit.cache.extra-splits)");
            }
            if (!target.partition().isBoundary(target.blocks() - bn)) {
                throw new InvalidSettingException("Bn_compute_blocks", "Bn_compute_blocks " + bn + " (block "
                        + (target.blocks() - bn) + ") is not served: the transformer was loaded with "
                        + target.partition() + " (configure more splits with dit.cache.extra-splits)");
            }
        }
        return s;
    }

    /**
     * Parses and checks merged settings against {@code blocks}. {@code defaultCoefficients} are the model family's
     * TeaCache coefficients; null before a model is known, when unset coefficients stand for the identity rescale
     * (used for validation only).
     */
    private static CacheSettings resolve(Map<String, Object> base, Map<String, Object> overrides, int blocks,
            double[] defaultCoefficients, int steps) {
        Map<String, Object> m = new LinkedHashMap<>(base);
        if (overrides != null) {
            for (Map.Entry<String, Object> e : overrides.entrySet()) {
                if (!m.containsKey(e.getKey())) {
                    throw new InvalidSettingException(e.getKey(), e.getKey() + " is not a cache setting (known: "
                            + m.keySet() + ")");
                }
                m.put(e.getKey(), e.getValue());
            }
        }
        String backend = string(m, "backend");
        if (!BACKENDS.contains(backend)) {
            throw new InvalidSettingException("backend", "backend must be one of none, tea_cache, cache_dit, was '"
                    + backend + "'");
        }
        List<Double> coefficients = doubles(m, "coefficients");
        double[] rescale = coefficients != null ? coefficients.stream().mapToDouble(Double::doubleValue).toArray()
                : defaultCoefficients != null ? defaultCoefficients : IDENTITY_RESCALE;
        TeaCacheConfig tea = new TeaCacheConfig(number(m, "rel_l1_thresh"), rescale, bool(m, "force_last_step"));
        List<Double> mask = doubles(m, "scm_steps_mask");
        Object accumulated = m.get("max_accumulated_residual_diff_threshold");
        DbCacheConfig db = new DbCacheConfig(integer(m, "Fn_compute_blocks"), integer(m, "Bn_compute_blocks"),
                integer(m, "max_warmup_steps"), integer(m, "warmup_interval"), integer(m, "max_cached_steps"),
                integer(m, "max_continuous_cached_steps"), number(m, "residual_diff_threshold"),
                accumulated == null ? null : number(m, "max_accumulated_residual_diff_threshold"),
                bool(m, "enable_taylorseer"), integer(m, "taylorseer_order"), string(m, "scm_steps_mask_policy"),
                string(m, "scm_steps_policy"), mask == null ? null : mask.stream().mapToInt(Double::intValue).toArray(),
                bool(m, "clean_continuous_counter"));
        // Every value is checked, whichever backend runs; the step count only against the running backend (a
        // profile's SCM preset has no mask for some step counts, which must not refuse tea_cache requests).
        check(() -> tea.validate(), "rel_l1_thresh", "coefficients");
        check(() -> {
            if (backend.equals(CACHE_DIT)) {
                db.validate(blocks, steps);
            } else {
                db.validate(blocks);
            }
        }, DBCACHE_KEYS.toArray(String[]::new));
        return new CacheSettings(backend, tea, db);
    }

    /** No step cache: prologue, every block, epilogue. */
    public static CacheSettings none() {
        return new CacheSettings(NONE, new TeaCacheConfig(0.2, IDENTITY_RESCALE, false), DbCacheConfig.defaults());
    }

    /** TeaCache with {@code rel_l1_thresh} 0: the tea_cache path, computing every step (warm-ups, calibration). */
    public static CacheSettings teaCacheComputingEveryStep() {
        return new CacheSettings(TEA_CACHE, new TeaCacheConfig(0, IDENTITY_RESCALE, false), DbCacheConfig.defaults());
    }

    /**
     * Checks configured defaults fully, the inactive backend's included, against the loaded model. The step count is
     * a request's; a configured custom SCM mask fixes it to its own length, else 28 stands in.
     */
    public static void checkConfigured(Map<String, Object> base, CacheTarget target) {
        int steps = configuredSteps(base);
        checkStepsOfBoth(resolve(base, Map.of(), target, steps), target.blocks(), steps);
    }

    /** Checks configured defaults before any model is known: every value that does not depend on the model. */
    public static void checkConfigured(Map<String, Object> base) {
        int steps = configuredSteps(base);
        int blocks = Integer.MAX_VALUE / 2;
        checkStepsOfBoth(resolve(base, Map.of(), blocks, null, steps), blocks, steps);
    }

    private static void checkStepsOfBoth(CacheSettings s, int blocks, int steps) {
        check(() -> s.dbCache().validate(blocks, steps), DBCACHE_KEYS.toArray(String[]::new));
    }

    private static int configuredSteps(Map<String, Object> base) {
        Object mask = base.get("scm_steps_mask");
        return mask instanceof List<?> l && !l.isEmpty() ? l.size() : 28;
    }

    /** The parameters of the active backend, as reported in responses. */
    public Map<String, Object> effective(Map<String, Object> merged) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("backend", backend);
        List<String> keys = switch (backend) {
            case TEA_CACHE -> TEA_KEYS;
            case CACHE_DIT -> DBCACHE_KEYS;
            default -> List.of();
        };
        for (String k : keys) {
            out.put(k, merged.get(k));
        }
        if (backend.equals(TEA_CACHE) && merged.get("coefficients") == null) {
            out.put("coefficients", toList(teaCache.coefficients()));
        }
        return out;
    }

    private static List<Double> toList(double[] a) {
        List<Double> l = new ArrayList<>();
        for (double v : a) {
            l.add(v);
        }
        return l;
    }

    private static void check(Runnable validation, String... keys) {
        try {
            validation.run();
        } catch (InvalidSettingException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            String message = e.getMessage() == null ? "invalid" : e.getMessage();
            String key = keys[0];
            for (String k : keys) { // the longest key the message starts with (scm_steps_mask_policy, not scm_steps_mask)
                if (message.startsWith(k) && (!message.startsWith(key) || k.length() > key.length())) {
                    key = k;
                }
            }
            throw new InvalidSettingException(key, message);
        }
    }

    private static String string(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof String s)) {
            throw new InvalidSettingException(key, key + " must be a string, was " + v);
        }
        return s;
    }

    private static double number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException ignored) {
                // reported below
            }
        }
        throw new InvalidSettingException(key, key + " must be a number, was " + v);
    }

    private static int integer(Map<String, Object> m, String key) {
        double d = number(m, key);
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new InvalidSettingException(key, key + " must be an integer, was " + m.get(key));
        }
        return (int) d;
    }

    private static boolean bool(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        if ("true".equals(v) || "false".equals(v)) {
            return Boolean.parseBoolean((String) v);
        }
        throw new InvalidSettingException(key, key + " must be true or false, was " + v);
    }

    private static List<Double> doubles(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> list)) {
            throw new InvalidSettingException(key, key + " must be a list of numbers, was " + v);
        }
        List<Double> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Number n)) {
                throw new InvalidSettingException(key, key + " must be a list of numbers, was " + v);
            }
            out.add(n.doubleValue());
        }
        return out;
    }
}
