package dev.ditfn.cache;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a step cache did during one image's denoising: per-branch computed/cached steps, blocks run, the trace. */
public final class CacheStats {

    /** One transformer call: its step, sigma, branch, and the cache's decision with reason and measured value. */
    public record TraceRecord(int step, float sigma, String branch, String decision, String reason, Double diff) {
    }

    private final int blocksPerCall;
    private final Map<Branch, List<Integer>> computed = new EnumMap<>(Branch.class);
    private final Map<Branch, List<Integer>> cached = new EnumMap<>(Branch.class);
    private final List<TraceRecord> trace = new ArrayList<>();
    private long blocksRun;
    private long calls;

    public CacheStats(int blocksPerCall) {
        this.blocksPerCall = blocksPerCall;
    }

    public synchronized void record(int step, float sigma, Branch branch, Decision d, int blocks) {
        (d.cache() ? cached : computed).computeIfAbsent(branch, b -> new ArrayList<>()).add(step);
        trace.add(new TraceRecord(step, sigma, branch.name(), d.cache() ? "cache" : "compute", d.reason(), d.diff()));
        blocksRun += blocks;
        calls++;
    }

    public synchronized long blocksRun() {
        return blocksRun;
    }

    /** Blocks that an uncached run of the same calls would have run. */
    public synchronized long blocksUncached() {
        return calls * blocksPerCall;
    }

    public synchronized double blocksComputedFraction() {
        return calls == 0 ? 1.0 : (double) blocksRun / blocksUncached();
    }

    public synchronized List<Integer> computedSteps(Branch b) {
        return List.copyOf(computed.getOrDefault(b, List.of()));
    }

    public synchronized List<Integer> cachedSteps(Branch b) {
        return List.copyOf(cached.getOrDefault(b, List.of()));
    }

    /** {@code branches}, {@code blocks_computed_fraction} and, when asked, {@code trace}. */
    public synchronized Map<String, Object> toMap(boolean withTrace) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> branches = new LinkedHashMap<>();
        for (Branch b : Branch.values()) {
            if (computed.containsKey(b) || cached.containsKey(b)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("computed_steps", computedSteps(b));
                m.put("cached_steps", cachedSteps(b));
                branches.put(b.name(), m);
            }
        }
        out.put("branches", branches);
        out.put("blocks_computed_fraction", blocksComputedFraction());
        if (withTrace) {
            out.put("trace", List.copyOf(trace));
        }
        return out;
    }

    /** One line for the log. */
    public synchronized String summary() {
        StringBuilder sb = new StringBuilder();
        for (Branch b : Branch.values()) {
            if (computed.containsKey(b) || cached.containsKey(b)) {
                sb.append(b).append(' ').append(computed.getOrDefault(b, List.of()).size()).append(" computed/")
                        .append(cached.getOrDefault(b, List.of()).size()).append(" cached; ");
            }
        }
        return sb.append(String.format("blocks computed %.3f", blocksComputedFraction())).toString();
    }
}
