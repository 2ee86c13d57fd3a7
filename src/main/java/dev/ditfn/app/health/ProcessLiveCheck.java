package dev.ditfn.app.health;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Liveness: UP while the process can answer. A failed or slow model load is a readiness/startup matter and must
 * not get the pod restarted in a loop, so this check does not look at the model.
 */
@Liveness
@ApplicationScoped
public class ProcessLiveCheck implements HealthCheck {
    @Override
    public HealthCheckResponse call() {
        Runtime rt = Runtime.getRuntime();
        return HealthCheckResponse.named("process").up()
                .withData("heap_used_bytes", rt.totalMemory() - rt.freeMemory())
                .withData("heap_max_bytes", rt.maxMemory()).build();
    }
}
