package dev.ditfn.engine;

import dev.ditfn.cache.CacheStats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The response's {@code cache} object: the settings, then what happened (per image when there are several). */
public final class CacheReport {
    private CacheReport() {
    }

    public static Map<String, Object> of(GenerationParams p, List<CacheStats> stats) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("backend", p.cache().backend());
        report.put("config", p.cacheConfig());
        if (stats.size() == 1) {
            report.putAll(stats.get(0).toMap(p.trace()));
        } else {
            long run = stats.stream().mapToLong(CacheStats::blocksRun).sum();
            long all = stats.stream().mapToLong(CacheStats::blocksUncached).sum();
            report.put("blocks_computed_fraction", (double) run / all);
            List<Map<String, Object>> perImage = new ArrayList<>();
            for (int i = 0; i < stats.size(); i++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("seed", p.seed() + i);
                m.putAll(stats.get(i).toMap(p.trace()));
                perImage.add(m);
            }
            report.put("images", perImage);
        }
        return report;
    }
}
