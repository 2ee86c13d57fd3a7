package dev.ditfn.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchSettingsTest {

    @Test
    void parsesNamesAndOverridesInOrder() {
        List<BenchSettings.Setting> s = BenchSettings.parse("""
                [{"name": "none", "cache": {"backend": "none"}},
                 {"name": "ts", "cache": {"backend": "cache_dit", "max_warmup_steps": 8, "enable_taylorseer": true}}]
                """);
        assertEquals(2, s.size());
        assertEquals("ts", s.get(1).name());
        assertEquals(Map.of("backend", "cache_dit", "max_warmup_steps", 8, "enable_taylorseer", true),
                s.get(1).cache());
        assertEquals(List.of("backend", "max_warmup_steps", "enable_taylorseer"), List.copyOf(s.get(1).cache().keySet()));
    }

    @Test
    void addsTheUncachedReferenceWhenMissing() {
        List<BenchSettings.Setting> s = BenchSettings.parse("""
                [{"name": "tea", "cache": {"backend": "tea_cache", "rel_l1_thresh": 0.4}}]""");
        assertEquals(List.of("none", "tea"), s.stream().map(BenchSettings.Setting::name).toList());
        assertTrue(s.get(0).uncached());
    }

    @Test
    void refusesBadFiles() {
        assertThrows(IllegalArgumentException.class, () -> BenchSettings.parse("{}"));
        assertThrows(IllegalArgumentException.class, () -> BenchSettings.parse("[]"));
        assertThrows(IllegalArgumentException.class, () -> BenchSettings.parse("[{\"cache\": {\"backend\": \"none\"}}]"));
        assertThrows(IllegalArgumentException.class, () -> BenchSettings.parse("[{\"name\": \"x\", \"cache\": {}}]"));
        assertThrows(IllegalArgumentException.class, () -> BenchSettings.parse(
                "[{\"name\": \"x\", \"cache\": {\"backend\": \"none\"}, \"extra\": 1}]"));
        assertThrows(IllegalArgumentException.class, () -> BenchSettings.parse(
                "[{\"name\": \"x\", \"cache\": {\"backend\": \"none\"}}, {\"name\": \"x\", \"cache\": {\"backend\": \"none\"}}]"));
    }

    @Test
    void defaultsStartWithNone() {
        List<BenchSettings.Setting> d = BenchSettings.defaults();
        assertEquals(5, d.size());
        assertTrue(d.get(0).uncached());
    }
}
