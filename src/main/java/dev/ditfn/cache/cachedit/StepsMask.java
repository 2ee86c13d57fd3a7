package dev.ditfn.cache.cachedit;

import java.util.ArrayList;
import java.util.List;

/**
 * SCM step computation masks, as cache-dit v1.3.0's {@code steps_mask} / {@code _steps_mask}
 * ({@code caching/cache_interface.py}; spec §2.7). 1 = compute, 0 = cache candidate.
 */
public final class StepsMask {
    private StepsMask() {
    }

    private static final String[] PRESETS = {"slow", "medium", "fast", "ultra"};

    /** Base presets at N = 28: {compute bins, cache bins}. */
    private static int[][] base(String policy) {
        return switch (policy) {
            case "slow" -> new int[][] {{8, 3, 3, 2, 1, 1}, {1, 2, 2, 2, 3}};
            case "medium" -> new int[][] {{6, 2, 2, 2, 2, 1}, {1, 3, 3, 3, 3}};
            case "fast" -> new int[][] {{6, 1, 1, 1, 1, 1}, {1, 3, 4, 5, 4}};
            case "ultra" -> new int[][] {{4, 1, 1, 1, 1}, {2, 5, 6, 7}};
            default -> throw new IllegalArgumentException(unknown(policy));
        };
    }

    /** Tables for 10 ≤ N ≤ 15. */
    private static int[][] small(String policy) {
        return switch (policy) {
            case "slow" -> new int[][] {{4, 2, 2, 2, 1}, {1, 1, 1, 1}};
            case "medium" -> new int[][] {{4, 2, 1, 1, 1}, {1, 1, 2, 2}};
            case "fast" -> new int[][] {{3, 1, 1, 1, 1}, {1, 2, 2, 3}};
            case "ultra" -> new int[][] {{2, 1, 1, 1, 1}, {1, 2, 3, 3}};
            default -> throw new IllegalArgumentException(unknown(policy));
        };
    }

    /** The Z-Image-Turbo special case N = 9. */
    private static int[][] nine(String policy) {
        return switch (policy) {
            case "slow" -> new int[][] {{5, 2, 1}, {1}};
            case "medium" -> new int[][] {{5, 1, 1}, {1, 1}};
            case "fast" -> new int[][] {{4, 1, 1}, {1, 2}};
            case "ultra" -> new int[][] {{3, 1, 1}, {2, 2}};
            default -> throw new IllegalArgumentException(unknown(policy));
        };
    }

    private static int[][] eight(String policy) {
        return switch (policy) {
            case "slow" -> new int[][] {{5, 1, 1}, {1}};
            case "medium" -> new int[][] {{4, 1, 1}, {1, 1}};
            case "fast" -> new int[][] {{3, 1, 1}, {1, 2}};
            case "ultra" -> new int[][] {{2, 1, 1}, {2, 2}};
            default -> throw new IllegalArgumentException(unknown(policy));
        };
    }

    private static String unknown(String policy) {
        return "mask_policy " + policy + " is not valid. Choose from [slow, medium, fast, ultra].";
    }

    /** Whether {@code policy} is one of the presets {@code slow}, {@code medium}, {@code fast}, {@code ultra}. */
    public static boolean isPreset(String policy) {
        for (String p : PRESETS) {
            if (p.equals(policy)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The preset mask for {@code steps} steps, exactly as cache-dit's {@code steps_mask(mask_policy=policy,
     * total_steps=steps)}: base bins at N = 28; grown for N &gt; 28; truncated for 16 ≤ N &lt; 28; the small
     * tables for 8 ≤ N &lt; 16 (N = 9 special-cased); N = 4 or 6 only below 8. The last element is forced to 1.
     *
     * @throws IllegalArgumentException for an unknown policy or an unsupported step count
     */
    public static int[] forPolicy(String policy, int steps) {
        if (!isPreset(policy)) {
            throw new IllegalArgumentException(unknown(policy));
        }
        int[][] bins;
        if (steps > 28) {
            bins = grow(base(policy), steps);
            truncate(bins, steps);
        } else if (steps == 28) {
            bins = base(policy);
        } else if (steps >= 16) {
            bins = base(policy);
            truncate(bins, steps);
        } else if (steps >= 8) {
            if (steps > 8) {
                bins = steps == 9 ? nine(policy) : small(policy);
            } else {
                bins = eight(policy);
            }
            truncate(bins, steps);
        } else {
            if (steps != 4 && steps != 6) {
                throw new IllegalArgumentException("Only total_steps=4 or 6 is supported for predefined masks "
                        + "while total_steps < 8. Got total_steps=" + steps + ".");
            }
            bins = steps == 4 ? new int[][] {{2, 1}, {1}} : new int[][] {{3, 1}, {2}};
        }
        int[] mask = fromBins(bins[0], bins[1], steps);
        mask[mask.length - 1] = 1;
        return mask;
    }

    /**
     * cache-dit's {@code _steps_mask}: {@code computeBins[0]} ones, {@code cacheBins[0]} zeros,
     * {@code computeBins[1]} ones, ... (a list that runs out is skipped), until at least {@code steps} long, then
     * truncated to {@code steps}. The last element is <em>not</em> forced to 1 here.
     *
     * @throws IllegalArgumentException when the bins sum to less than {@code steps} or a bin is negative
     */
    public static int[] fromBins(int[] computeBins, int[] cacheBins, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("total_steps must be >= 1, got " + steps);
        }
        long sum = 0;
        for (int b : computeBins) {
            if (b < 0) {
                throw new IllegalArgumentException("compute bins must be >= 0, got " + b);
            }
            sum += b;
        }
        for (int b : cacheBins) {
            if (b < 0) {
                throw new IllegalArgumentException("cache bins must be >= 0, got " + b);
            }
            sum += b;
        }
        if (sum < steps) {
            throw new IllegalArgumentException("The sum of compute and cache intervals (" + sum
                    + ") must be at least total_steps (" + steps + ").");
        }
        int[] mask = new int[steps];
        int pos = 0;
        int ci = 0;
        int ki = 0;
        while (pos < steps) {
            if (ci < computeBins.length) {
                for (int k = 0; k < computeBins[ci] && pos < steps; k++) {
                    mask[pos++] = 1;
                }
                ci++;
            }
            if (ki < cacheBins.length) {
                for (int k = 0; k < cacheBins[ki] && pos < steps; k++) {
                    mask[pos++] = 0;
                }
                ki++;
            }
        }
        return mask;
    }

    /** Growth for N &gt; 28 (upstream's {@code while _sum_policy(policy) < total_steps} loop). */
    private static int[][] grow(int[][] policy, int steps) {
        int[] compute = policy[0].clone();
        int[] cache = policy[1].clone();
        int[] origCompute = policy[0];
        int[] origCache = policy[1];
        int minLen = Math.min(compute.length, cache.length);
        double scale = (steps / 28.0) * 0.5;
        while (sum(compute, cache) < steps) {
            boolean reached = false;
            for (int i = 0; i < minLen; i++) {
                compute[i] += Math.max((int) (origCompute[i] * scale), 1);
                if (sum(compute, cache) >= steps) {
                    reached = true;
                    break;
                }
                cache[i] += Math.max((int) (origCache[i] * scale), 1);
                if (sum(compute, cache) >= steps) {
                    reached = true;
                    break;
                }
            }
            if (reached || sum(compute, cache) >= steps) {
                break;
            }
            compute[compute.length - 1] += 1;
        }
        return new int[][] {compute, cache};
    }

    /**
     * Upstream's {@code _truncate_policy}: while the sum exceeds {@code steps}, decrement the last cache bin (pop it at
     * 0), stop if reached, then decrement the last compute bin (pop it at 0), stop if reached.
     */
    private static void truncate(int[][] policy, int steps) {
        List<Integer> compute = toList(policy[0]);
        List<Integer> cache = toList(policy[1]);
        while (sum(compute) + sum(cache) > steps) {
            if (!cache.isEmpty()) {
                decrementLast(cache);
            }
            if (sum(compute) + sum(cache) <= steps) {
                break;
            }
            if (!compute.isEmpty()) {
                decrementLast(compute);
            }
            if (sum(compute) + sum(cache) <= steps) {
                break;
            }
        }
        policy[0] = compute.stream().mapToInt(Integer::intValue).toArray();
        policy[1] = cache.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void decrementLast(List<Integer> bins) {
        int last = bins.size() - 1;
        int v = bins.get(last) - 1;
        if (v == 0) {
            bins.remove(last);
        } else {
            bins.set(last, v);
        }
    }

    private static List<Integer> toList(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int v : a) {
            l.add(v);
        }
        return l;
    }

    private static int sum(List<Integer> l) {
        int s = 0;
        for (int v : l) {
            s += v;
        }
        return s;
    }

    private static int sum(int[] a, int[] b) {
        int s = 0;
        for (int v : a) {
            s += v;
        }
        for (int v : b) {
            s += v;
        }
        return s;
    }

    /** The mask as a string of 0/1, e.g. {@code 111110111}. */
    public static String toString(int[] mask) {
        StringBuilder sb = new StringBuilder(mask.length);
        for (int m : mask) {
            sb.append(m);
        }
        return sb.toString();
    }

    /** Parses a string of 0/1. */
    public static int[] parse(String bits) {
        int[] m = new int[bits.length()];
        for (int i = 0; i < m.length; i++) {
            char c = bits.charAt(i);
            if (c != '0' && c != '1') {
                throw new IllegalArgumentException("mask must contain only 0 and 1: " + bits);
            }
            m[i] = c - '0';
        }
        return m;
    }

    /** The number of leading 1s (the warmup cap that a mask imposes). */
    public static int leadingOnes(int[] mask) {
        int n = 0;
        while (n < mask.length && mask[n] == 1) {
            n++;
        }
        return n;
    }
}
