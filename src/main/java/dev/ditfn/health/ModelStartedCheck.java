package dev.ditfn.health;

import dev.ditfn.model.ModelState;
import dev.ditfn.runtime.OrtRuntime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;

/** Startup probe: DOWN until the model has loaded, so orchestrators wait for long loads instead of restarting. */
@Startup
@ApplicationScoped
public class ModelStartedCheck implements HealthCheck {
    @Inject
    ModelState state;
    @Inject
    OrtRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return ModelHealth.of("model-started", state, runtime);
    }
}
