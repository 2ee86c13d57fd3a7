package dev.ditfn.config;

import io.smallrye.config.ConfigValidationException;
import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config mapping's validation, exercised with SmallRye Config directly (no application boot). */
class DitConfigValidationTest {
    private static DitConfig load(Map<String, String> properties) {
        return TestConfig.load(properties);
    }

    @Test
    void defaultsAreValidAndMeanCpu() {
        DitConfig c = load(Map.of());
        assertEquals(Device.cpu, c.device());
        assertEquals(0, c.deviceId());
        assertFalse(c.fallbackToCpu());
        assertEquals(0, c.threads().intraOp());
        assertEquals(1, c.threads().interOp());
        assertEquals("CANNExecutionProvider", c.cann().epName());
        assertTrue(c.model().path().isEmpty());
        assertTrue(c.model().cacheDir().endsWith("/.cache/dit-fn"), c.model().cacheDir());
    }

    @ParameterizedTest
    @CsvSource({
        "dit.device-id, 64, be less than or equal to 63",
        "dit.device-id, -1, be greater than or equal to 0",
        "dit.threads.intra-op, -1, be greater than or equal to 0",
        "dit.threads.intra-op, 5000, be less than or equal to 1024",
        "dit.threads.inter-op, 0, be greater than or equal to 1",
        "dit.cann.ep-name, ' ', not be blank",
    })
    void outOfRangeValuesNameTheKeyAndTheRange(String key, String value, String range) {
        ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> load(Map.of(key, value)));
        assertTrue(e.getMessage().contains(key + " must " + range), e.getMessage());
    }

    @Test
    void unknownDeviceNamesTheKeyAndValue() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> load(Map.of("dit.device", "tpu")));
        assertTrue(e.getMessage().contains("dit.device"), e.getMessage());
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"cpu, cpu", "gpu, cuda", "ascend, cann"})
    void eachProfileFileIsValidAndSelectsItsDevice(String profile, Device expected) throws IOException {
        DitConfig c = load(properties(Path.of("config", "application-" + profile + ".properties")));
        assertEquals(expected, c.device());
        assertFalse(c.fallbackToCpu(), "a target profile must not hide a missing device");
    }

    @Test
    void gpuProfilePassesCudaOptionsThrough() throws IOException {
        DitConfig c = load(properties(Path.of("config", "application-gpu.properties")));
        assertEquals("HEURISTIC", c.cuda().options().get("cudnn_conv_algo_search"));
    }

    private static Map<String, String> properties(Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        Map<String, String> map = new HashMap<>();
        p.forEach((k, v) -> map.put(k.toString(), v.toString()));
        return map;
    }
}
