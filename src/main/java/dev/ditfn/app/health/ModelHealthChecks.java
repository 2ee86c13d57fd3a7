package dev.ditfn.app.health;

import dev.ditfn.app.ModelState;
import dev.ditfn.runtime.OrtRuntime;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.health.Startup;

/**
 * The model's startup and readiness checks. Both are DOWN until the model has loaded: startup so orchestrators
 * wait for long loads instead of restarting, readiness so no traffic arrives before requests can be served. While
 * draining (SIGTERM), readiness is DOWN and startup stays UP.
 */
@ApplicationScoped
public class ModelHealthChecks {

    @Produces
    @Startup
    @ApplicationScoped
    HealthCheck started(ModelState state, OrtRuntime runtime) {
        return () -> ModelHealth.of("model-started", state.status(), runtime.device(), true);
    }

    @Produces
    @Readiness
    @ApplicationScoped
    HealthCheck ready(ModelState state, OrtRuntime runtime) {
        return () -> ModelHealth.of("model-ready", state.status(), runtime.device(), false);
    }
}
