package dev.ditfn.app;

import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.RequestAbortedException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The serving metrics at {@code /q/metrics} (Prometheus): requests by function and status with their latency, time
 * per pipeline stage, aborted requests, step-cache work per backend, and the model's load time. Admission's
 * queue, in-flight and rejection meters are in {@link Admission}.
 */
@ApplicationScoped
public class ServingMetrics {
    private final MeterRegistry registry;

    ServingMetrics(MeterRegistry registry, ModelState state) {
        this.registry = registry;
        Gauge.builder("dit.model.load", state, s -> s.status().model() == null ? Double.NaN
                        : s.status().model().loadTime().toNanos() / 1e9)
                .baseUnit("seconds").description("how long the served model took to load").register(registry);
    }

    /** Times every function request from arrival to the end of its response; health and metrics are not counted. */
    void routes(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE + 1).handler(rc -> {
            String path = rc.request().path();
            if (path.startsWith("/q/")) {
                rc.next();
                return;
            }
            long start = System.nanoTime();
            rc.addEndHandler(done -> {
                int code = rc.response().getStatusCode();
                // A closed connection has no status the client saw; unknown paths are one label, not one each.
                String status = done.succeeded() ? String.valueOf(code) : "closed";
                String function = code == 404 ? "unknown" : path.length() <= 1 ? "events" : path.substring(1);
                Timer.builder("dit.requests").description("function requests by status, arrival to response end")
                        .tags("function", function, "status", status).publishPercentileHistogram()
                        .register(registry).record(Duration.ofNanos(System.nanoTime() - start));
            });
            rc.next();
        });
    }

    /** A finished generation: stage times, and what the step cache computed and reused. */
    public void generated(String backend, GenerationResult result) {
        result.timingsMs().forEach((stage, ms) -> {
            if (!stage.equals("total")) {
                Timer.builder("dit.stage.duration").description("wall time per pipeline stage and request")
                        .tag("stage", stage).publishPercentileHistogram().register(registry)
                        .record(Duration.ofNanos(Math.round(ms * 1e6)));
            }
        });
        Map<String, Object> cache = result.cache();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> images = cache.containsKey("images")
                ? (List<Map<String, Object>>) cache.get("images") : List.of(cache);
        for (Map<String, Object> image : images) {
            DistributionSummary.builder("dit.cache.blocks.computed.fraction")
                    .description("share of transformer blocks run per image, 1 = no reuse").tag("backend", backend)
                    .register(registry).record(((Number) image.get("blocks_computed_fraction")).doubleValue());
            @SuppressWarnings("unchecked")
            Map<String, Map<String, List<?>>> branches = (Map<String, Map<String, List<?>>>) image.get("branches");
            branches.forEach((branch, steps) -> {
                steps(backend, branch, "computed").increment(steps.get("computed_steps").size());
                steps(backend, branch, "cached").increment(steps.get("cached_steps").size());
            });
        }
    }

    /** A request stopped before its end: its client went away, or it passed its deadline. */
    public void aborted(RequestAbortedException.Reason reason) {
        String name = reason == RequestAbortedException.Reason.DEADLINE ? "dit.requests.deadline.exceeded"
                : "dit.requests.cancelled";
        Counter.builder(name).register(registry).increment();
    }

    private Counter steps(String backend, String branch, String kind) {
        return Counter.builder("dit.cache.steps").description("transformer calls per branch: computed or reused")
                .tags("backend", backend, "branch", branch, "kind", kind).register(registry);
    }
}
