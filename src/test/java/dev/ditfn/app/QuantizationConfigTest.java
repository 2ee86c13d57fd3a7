package dev.ditfn.app;

import dev.ditfn.config.DitConfig;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dit.quantization} and {@code dit.quantization.block-size} as the loader reads them into LoadOptions. */
class QuantizationConfigTest {

    @Test
    void noneByDefault() {
        DitConfig c = TestConfig.load(Map.of());
        assertEquals(DitConfig.Quantization.NONE, c.quantization());
        assertEquals(32, c.quantizationBlockSize());
        assertEquals(WeightQuantization.NONE, ModelLoader.loadOptions(c).quantization());
    }

    @Test
    void int8AndInt4WithABlockSize() {
        assertEquals(WeightQuantization.of(8, 32), ModelLoader.loadOptions(TestConfig.load(
                Map.of("dit.quantization", "int8"))).quantization());
        assertEquals(WeightQuantization.of(4, 128), ModelLoader.loadOptions(TestConfig.load(
                Map.of("dit.quantization", "int4", "dit.quantization.block-size", "128"))).quantization());
        assertEquals(WeightQuantization.of(8, 64).withAccuracyLevel(4), ModelLoader.loadOptions(TestConfig.load(
                Map.of("dit.quantization", "int8", "dit.quantization.block-size", "64",
                        "dit.quantization.accuracy-level", "4"))).quantization());
    }

    @Test
    void invalidValuesNameTheKey() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> TestConfig.load(Map.of("dit.quantization", "int3")));
        assertTrue(e.getMessage().contains("dit.quantization") && e.getMessage().contains("int3"), e.getMessage());
        DitConfig c = TestConfig.load(Map.of("dit.quantization", "int4", "dit.quantization.block-size", "48"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.loadOptions(c));
        assertTrue(e.getMessage().contains("dit.quantization.block-size=48") && e.getMessage().contains("32, 64 or 128"),
                e.getMessage());
        DitConfig level = TestConfig.load(Map.of("dit.quantization", "int8", "dit.quantization.accuracy-level", "2"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.loadOptions(level));
        assertTrue(e.getMessage().contains("dit.quantization.accuracy-level=2"), e.getMessage());
    }
}
