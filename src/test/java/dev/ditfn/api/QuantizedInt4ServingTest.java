package dev.ditfn.api;

import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** {@link QuantizedServingTest} with {@code dit.quantization=int4} and {@code dit.quantization.block-size=64}. */
@QuarkusTest
@TestProfile(QuantizedInt4ServingTest.Int4Model.class)
class QuantizedInt4ServingTest extends QuantizedServingTest {

    public static class Int4Model implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            QwenImageSnapshot.write(INT4_DIR, QwenImageSnapshot.TINY, DType.FLOAT32, 11);
            return Map.of("dit.model.path", INT4_DIR.toAbsolutePath().toString(), "dit.quantization", "int4",
                    "dit.quantization.block-size", "64");
        }
    }

    @Override
    Path dir() {
        return INT4_DIR;
    }

    /** int4 on the random tiny model, against fp32. */
    @Override
    @Test
    void servedImageIsTheQuantizedPipelinesAndCloseToFp32() throws IOException {
        checkServed(WeightQuantization.of(4, 64), 30); // observed 40.6 dB
    }
}
