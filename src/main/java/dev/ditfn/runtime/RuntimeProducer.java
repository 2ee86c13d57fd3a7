package dev.ditfn.runtime;

import ai.onnxruntime.OrtEnvironment;
import dev.ditfn.config.DitConfig;
import dev.ditfn.weights.QuantizedWeightCache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.nio.file.Path;
import java.util.Optional;

/** Makes the ORT runtime, configured from {@link DitConfig}, available for injection. */
@ApplicationScoped
public class RuntimeProducer {

    @Produces
    @Singleton
    OrtRuntime runtime(DitConfig config) {
        OrtEnvironment env = OrtRuntime.environment(config.threads().intraOp(), config.threads().interOp(),
                config.threads().spin());
        return new OrtRuntime(env, new ExecutionProviders(env, settings(config)), config.prepackWeights(),
                quantizationCache(config));
    }

    /** {@code dit.quantization.cache-dir}, opened and created if missing; an unusable folder stops startup. */
    static Optional<QuantizedWeightCache> quantizationCache(DitConfig config) {
        return config.quantizationCacheDir().map(dir -> {
            try {
                return QuantizedWeightCache.open(Path.of(dir));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid configuration dit.quantization.cache-dir=" + dir + ": "
                        + e.getMessage(), e);
            }
        });
    }

    static ExecutionProviders.Settings settings(DitConfig c) {
        return new ExecutionProviders.Settings(c.device(), c.deviceId(), c.fallbackToCpu(), c.cuda().options(),
                c.cann().providerLibrary(), c.cann().epName(), c.cann().options());
    }
}
