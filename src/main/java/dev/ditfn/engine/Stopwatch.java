package dev.ditfn.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** Wall time per named stage of one request, summed over calls, plus the total since creation. */
public final class Stopwatch {
    private final Map<String, Double> totals = new LinkedHashMap<>();
    private final long start = System.nanoTime();

    public <T> T run(String stage, Supplier<T> work) {
        long t0 = System.nanoTime();
        try {
            return work.get();
        } finally {
            totals.merge(stage, (System.nanoTime() - t0) / 1e6, Double::sum);
        }
    }

    /** Adds {@code ms} measured elsewhere to {@code stage}. */
    public void add(String stage, double ms) {
        totals.merge(stage, ms, Double::sum);
    }

    /** Milliseconds per stage, and {@code total}. */
    public Map<String, Double> totals() {
        Map<String, Double> out = new LinkedHashMap<>(totals);
        out.put("total", (System.nanoTime() - start) / 1e6);
        return out;
    }
}
