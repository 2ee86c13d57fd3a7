package dev.ditfn.health;

import dev.ditfn.model.ModelState;
import dev.ditfn.runtime.OrtRuntime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Readiness: UP only while a loaded model can serve requests. */
@Readiness
@ApplicationScoped
public class ModelReadyCheck implements HealthCheck {
    @Inject
    ModelState state;
    @Inject
    OrtRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return ModelHealth.of("model-ready", state, runtime);
    }
}
