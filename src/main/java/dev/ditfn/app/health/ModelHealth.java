package dev.ditfn.app.health;

import dev.ditfn.app.LoadedModel;
import dev.ditfn.app.ModelState;
import dev.ditfn.runtime.ResolvedDevice;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * The model's state as a health response: UP once loaded; DOWN with {@code state=loading} and the stage while
 * loading, or {@code state=failed} and the error. Device and fallback are reported either way.
 */
final class ModelHealth {
    private ModelHealth() {
    }

    /** @param upWhileDraining whether a draining model still counts as UP (started: yes; ready: no) */
    static HealthCheckResponse of(String name, ModelState.Status status, ResolvedDevice device,
            boolean upWhileDraining) {
        ModelState.Phase phase = status.phase();
        HealthCheckResponseBuilder b = HealthCheckResponse.named(name)
                .status(phase == ModelState.Phase.READY || upWhileDraining && phase == ModelState.Phase.DRAINING)
                .withData("state", status.phase().name().toLowerCase())
                .withData("device", device.active().name());
        device.fallbackReason().ifPresent(r -> b.withData("device_requested", device.requested().name())
                .withData("device_fallback", r));
        switch (status.phase()) {
            case LOADING -> b.withData("loading", status.stage());
            case FAILED -> b.withData("failed_while", status.stage()).withData("error", status.error());
            case DRAINING -> b.withData("draining", "shutting down: running requests finish, new ones get 503");
            case READY -> {
                LoadedModel m = status.model();
                b.withData("model", m.id()).withData("model_dir", m.dir().getFileName().toString())
                        .withData("pipeline", m.pipelineClass()).withData("tensors", m.tensors())
                        .withData("weight_bytes", m.weightBytes()).withData("load_ms", m.loadTime().toMillis())
                        .withData("sessions", m.pipeline().sessionCount())
                        .withData("transformer_segments", m.pipeline().cacheTarget().partition().boundaries()
                                .toString());
            }
        }
        return b.build();
    }
}
