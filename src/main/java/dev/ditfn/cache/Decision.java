package dev.ditfn.cache;

/**
 * A cache policy's verdict for one transformer call.
 *
 * @param cache  reuse (true) or compute (false)
 * @param reason why: {@code warmup}, {@code mask}, {@code max_cached}, {@code max_continuous}, {@code accumulated},
 *               {@code threshold} (diff at or above the threshold), {@code similar} (diff below it: cache),
 *               {@code first}, {@code no_residual}, {@code last_step}, {@code disabled}, {@code static_mask} (cache)
 * @param diff   the measured relative difference (DBCache) or accumulated distance (TeaCache), null if none was
 *               computed
 */
public record Decision(boolean cache, String reason, Double diff) {

    public static Decision compute(String reason) {
        return new Decision(false, reason, null);
    }

    public static Decision compute(String reason, double diff) {
        return new Decision(false, reason, diff);
    }

    public static Decision reuse(String reason, Double diff) {
        return new Decision(true, reason, diff);
    }
}
