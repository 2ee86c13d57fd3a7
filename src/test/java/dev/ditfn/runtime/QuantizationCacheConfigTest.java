package dev.ditfn.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** {@code dit.quantization.cache-dir} as the runtime producer opens it: off when unset, created, or a clear error. */
class QuantizationCacheConfigTest {
    @TempDir
    Path dir;

    @Test
    void unsetMeansNoCache() {
        assertTrue(RuntimeProducer.quantizationCache(TestConfig.defaults()).isEmpty());
    }

    @Test
    void aMissingFolderIsCreated() {
        Path cache = dir.resolve("quantized");
        var opened = RuntimeProducer.quantizationCache(TestConfig.load(Map.of("dit.quantization.cache-dir",
                cache.toString())));
        assertEquals(cache, opened.orElseThrow().dir());
        assertTrue(Files.isDirectory(cache));
    }

    @Test
    void aFolderThatCannotBeMadeStopsStartupNamingTheKey() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        var e = assertThrows(IllegalArgumentException.class, () -> RuntimeProducer.quantizationCache(
                TestConfig.load(Map.of("dit.quantization.cache-dir", file.resolve("cache").toString()))));
        assertTrue(e.getMessage().startsWith("invalid configuration dit.quantization.cache-dir=" + file), e.getMessage());
    }
}
