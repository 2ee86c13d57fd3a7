package dev.ditfn.testing;

import ai.onnxruntime.OrtEnvironment;
import dev.ditfn.config.Device;
import dev.ditfn.runtime.ExecutionProviders;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.QuantizedWeightCache;

import java.util.Map;
import java.util.Optional;

/** The ORT runtime tests run graphs on: this process's environment, CPU provider. */
public final class CpuRuntime {
    private static OrtRuntime shared;

    private CpuRuntime() {
    }

    /** One shared runtime with default settings (weights prepacked). */
    public static synchronized OrtRuntime shared() {
        if (shared == null) {
            shared = create(true);
        }
        return shared;
    }

    public static OrtRuntime create(boolean prepackWeights) {
        return create(prepackWeights, Optional.empty());
    }

    /** A runtime (weights prepacked) that reads and stores quantized weights in {@code cache}. */
    public static OrtRuntime withQuantizationCache(QuantizedWeightCache cache) {
        return create(true, Optional.of(cache));
    }

    private static OrtRuntime create(boolean prepackWeights, Optional<QuantizedWeightCache> cache) {
        OrtEnvironment env = OrtRuntime.environment(0, 1, true);
        return new OrtRuntime(env, new ExecutionProviders(env, new ExecutionProviders.Settings(Device.cpu, 0, false,
                Map.of(), Optional.empty(), "CANNExecutionProvider", Map.of())), prepackWeights, cache);
    }
}
