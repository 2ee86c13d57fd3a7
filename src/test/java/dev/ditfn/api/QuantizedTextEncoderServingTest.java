package dev.ditfn.api;

import dev.ditfn.engine.LoadOptions;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.weights.QuantizedWeightCache;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link QuantizedServingTest} with {@code dit.quantization.text-encoder=int8} beside {@code dit.quantization=int8}
 * and a {@code dit.quantization.cache-dir}: the server's load writes the cache, the test's own load of the same
 * pipeline reads every weight from it and gives the served image bit for bit.
 */
@QuarkusTest
@TestProfile(QuantizedTextEncoderServingTest.TextEncoderInt8.class)
class QuantizedTextEncoderServingTest extends QuantizedServingTest {
    static final Path TEXT_ENCODER_DIR = Path.of("target", "test-models", "quantized-tiny-text-encoder");

    public static class TextEncoderInt8 implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageSnapshot.write(TEXT_ENCODER_DIR, QwenImageSnapshot.TINY, DType.FLOAT32, 11);
            // a new cache folder per run, so that the server's load is the one that writes it
            Path cache = Path.of("target", "test-models", "quantization-cache-" + System.nanoTime());
            return Map.of("dit.model.path", TEXT_ENCODER_DIR.toAbsolutePath().toString(), "dit.quantization", "int8",
                    "dit.quantization.text-encoder", "int8", "dit.quantization.cache-dir", cache.toString());
        }
    }

    @Override
    Path dir() {
        return TEXT_ENCODER_DIR;
    }

    @Override
    @Test
    void servedImageIsTheQuantizedPipelinesAndCloseToFp32() throws IOException {
        QuantizedWeightCache cache = runtime.quantizationCache().orElseThrow();
        long written = cache.stats().written();
        assertTrue(written > 0, "the server's load wrote the cache");
        checkServed(new LoadOptions(Set.of()).withTransformerQuantization(WeightQuantization.of(8, 32))
                .withTextEncoderQuantization(WeightQuantization.of(8, 32)), "transformer and text encoder int8", 45); // observed 56.4 dB
        assertEquals(new QuantizedWeightCache.Stats(written, written, 0), cache.stats(),
                "the test's load read every weight the server's wrote");
    }
}
