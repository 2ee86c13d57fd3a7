package dev.ditfn.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cache settings a benchmark compares: a name and the cache overrides of a request ({@code backend} plus any
 * {@code dit.cache.*} key by its vLLM-Omni name). A settings file is a JSON list of
 * {@code {"name": ..., "cache": {"backend": ..., ...}}}.
 */
public final class BenchSettings {
    /** One compared setting. */
    public record Setting(String name, Map<String, Object> cache) {
        public Setting {
            cache = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(cache));
        }

        public boolean uncached() {
            return "none".equals(cache.get("backend"));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchSettings() {
    }

    /** none, tea_cache 0.2, the cache_dit default, cache_dit + TaylorSeer (W8 O1), cache_dit + SCM fast. */
    public static List<Setting> defaults() {
        return List.of(
                new Setting("none", ordered("backend", "none")),
                new Setting("tea_cache 0.2", ordered("backend", "tea_cache", "rel_l1_thresh", 0.2)),
                new Setting("cache_dit default", ordered("backend", "cache_dit")),
                new Setting("cache_dit + TaylorSeer W8 O1", ordered("backend", "cache_dit", "max_warmup_steps", 8,
                        "enable_taylorseer", true, "taylorseer_order", 1)),
                new Setting("cache_dit + SCM fast", ordered("backend", "cache_dit", "scm_steps_mask_policy", "fast")));
    }

    private static Map<String, Object> ordered(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    public static List<Setting> read(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read settings file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a settings list. Names must be unique and every entry needs a {@code cache.backend}; a {@code none}
     * setting is added first when the list has none, since speedup and PSNR are measured against it.
     */
    public static List<Setting> parse(String json) {
        List<Map<String, Object>> raw;
        try {
            raw = JSON.readValue(json, new TypeReference<>() { });
        } catch (IOException e) {
            throw new IllegalArgumentException("settings must be a JSON list of {\"name\", \"cache\"} objects: "
                    + e.getMessage(), e);
        }
        if (raw == null || raw.isEmpty()) {
            throw new IllegalArgumentException("settings list is empty");
        }
        List<Setting> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Map<String, Object> entry : raw) {
            if (!(entry.get("name") instanceof String name) || name.isBlank()) {
                throw new IllegalArgumentException("every setting needs a non-empty \"name\": " + entry);
            }
            if (!(entry.get("cache") instanceof Map<?, ?> cache) || !(cache.get("backend") instanceof String)) {
                throw new IllegalArgumentException("setting '" + name + "' needs \"cache\": {\"backend\": ...}");
            }
            Set<String> unknown = new LinkedHashSet<>(entry.keySet());
            unknown.removeAll(Set.of("name", "cache"));
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("setting '" + name + "' has unknown keys " + unknown);
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("setting name '" + name + "' appears twice");
            }
            Map<String, Object> c = new LinkedHashMap<>();
            cache.forEach((k, v) -> c.put(String.valueOf(k), v));
            out.add(new Setting(name, c));
        }
        if (out.stream().noneMatch(Setting::uncached)) {
            if (names.contains("none")) {
                throw new IllegalArgumentException("a setting named 'none' must have backend none");
            }
            out.add(0, new Setting("none", Map.of("backend", "none")));
        }
        return out;
    }
}
