package dev.ditfn.app;

import dev.ditfn.config.Device;
import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.ResolvedDevice;
import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dit.quantization}, {@code dit.quantization.text-encoder}, {@code .block-size} and {@code .accuracy-level} as
 * the loader reads them into LoadOptions, and its refusal of quantized components on CANN.
 */
class QuantizationConfigTest {

    @Test
    void noneByDefault() {
        DitConfig c = TestConfig.load(Map.of());
        assertEquals(DitConfig.Quantization.NONE, c.quantization());
        assertEquals(32, c.quantizationBlockSize());
        assertEquals(WeightQuantization.NONE, ModelLoader.loadOptions(c).transformerQuantization());
        assertEquals(DitConfig.Quantization.NONE, c.textEncoderQuantization());
        assertEquals(WeightQuantization.NONE, ModelLoader.loadOptions(c).textEncoderQuantization());
        assertTrue(c.quantizationCacheDir().isEmpty());
    }

    @Test
    void theTextEncoderHasItsOwnBitsAndSharesBlockSizeAndAccuracyLevel() {
        LoadOptions o = ModelLoader.loadOptions(TestConfig.load(Map.of("dit.quantization.text-encoder", "int4",
                "dit.quantization.block-size", "64", "dit.quantization.accuracy-level", "4")));
        assertEquals(WeightQuantization.of(4, 64).withAccuracyLevel(4), o.textEncoderQuantization());
        assertEquals(WeightQuantization.NONE, o.transformerQuantization());
        o = ModelLoader.loadOptions(TestConfig.load(Map.of("dit.quantization", "int4",
                "dit.quantization.text-encoder", "int8")));
        assertEquals(WeightQuantization.of(4, 32), o.transformerQuantization());
        assertEquals(WeightQuantization.of(8, 32), o.textEncoderQuantization());
    }

    @Test
    void aMistypedTextEncoderValueOrKeyIsAnError() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> TestConfig.load(Map.of("dit.quantization.text-encoder", "int16")));
        assertTrue(e.getMessage().contains("dit.quantization.text-encoder") && e.getMessage().contains("int16"),
                e.getMessage());
        e = assertThrows(RuntimeException.class, () -> TestConfig.load(Map.of("dit.quantization.text-encodr", "int8")));
        assertTrue(e.getMessage().contains("dit.quantization.text-encodr"), e.getMessage());
    }

    @Test
    void cannRefusesEachQuantizedComponentNamingItsKey() {
        ResolvedDevice cann = ResolvedDevice.as(Device.cann);
        ModelLoader.checkQuantizationRuns(TestConfig.load(Map.of()), cann);
        for (String key : List.of("dit.quantization", "dit.quantization.text-encoder")) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> ModelLoader.checkQuantizationRuns(TestConfig.load(Map.of(key, "int8")), cann));
            assertTrue(e.getMessage().contains("invalid configuration " + key + "=int8")
                    && e.getMessage().contains("MatMulNBits") && e.getMessage().contains("use " + key + "=none"),
                    e.getMessage());
            ModelLoader.checkQuantizationRuns(TestConfig.load(Map.of(key, "int8")), ResolvedDevice.as(Device.cpu));
        }
    }

    @Test
    void int8AndInt4WithABlockSize() {
        assertEquals(WeightQuantization.of(8, 32), ModelLoader.loadOptions(TestConfig.load(
                Map.of("dit.quantization", "int8"))).transformerQuantization());
        assertEquals(WeightQuantization.of(4, 128), ModelLoader.loadOptions(TestConfig.load(
                Map.of("dit.quantization", "int4", "dit.quantization.block-size", "128"))).transformerQuantization());
        assertEquals(WeightQuantization.of(8, 64).withAccuracyLevel(4), ModelLoader.loadOptions(TestConfig.load(
                Map.of("dit.quantization", "int8", "dit.quantization.block-size", "64",
                        "dit.quantization.accuracy-level", "4"))).transformerQuantization());
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
