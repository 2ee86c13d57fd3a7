package dev.ditfn.runtime;

import ai.onnxruntime.OrtEnvironment;
import dev.ditfn.config.DitConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Makes the ORT runtime, configured from {@link DitConfig}, available for injection. */
@ApplicationScoped
public class RuntimeProducer {

    @Produces
    @Singleton
    OrtRuntime runtime(DitConfig config) {
        OrtEnvironment env = OrtRuntime.environment(config.threads().intraOp(), config.threads().interOp());
        return new OrtRuntime(env, new ExecutionProviders(env, settings(config)), config.prepackWeights());
    }

    static ExecutionProviders.Settings settings(DitConfig c) {
        return new ExecutionProviders.Settings(c.device(), c.deviceId(), c.fallbackToCpu(), c.cuda().options(),
                c.cann().providerLibrary(), c.cann().epName(), c.cann().options());
    }
}
