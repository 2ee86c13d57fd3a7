package dev.ditfn.api;

import dev.ditfn.app.Admission;
import dev.ditfn.app.LoadedModel;
import dev.ditfn.app.ServingMetrics;
import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.InvalidInputException;
import dev.ditfn.engine.RequestAbortedException;
import dev.ditfn.engine.RequestContext;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.time.Instant;

/**
 * The way every front door runs a generation: admission (a slot, or 429 with Retry-After), the request's deadline
 * (504, stopping the model call in progress), cancellation when the client disconnects, and the metrics.
 */
@ApplicationScoped
public class GenerationGate {
    /** Lowers {@code dit.serving.request-timeout} for one request, in seconds. */
    public static final String TIMEOUT_HEADER = "X-Request-Timeout";

    @Inject
    Admission admission;
    @Inject
    ServingMetrics metrics;
    @Inject
    DitConfig config;
    @Inject
    CurrentVertxRequest current;
    @Inject
    Vertx vertx;

    /** Runs {@code p} on {@code model} for the HTTP request being served. */
    public GenerationResult generate(LoadedModel model, GenerationParams p) {
        return generate(current.getCurrent(), model, p, null, null);
    }

    /**
     * Runs {@code p} on {@code model} for the HTTP request {@code rc} (null: none, e.g. no disconnect to watch), with
     * {@code progress} and {@code previews} (each may be null) hearing the denoising loop: a streamed answer, written
     * after the resource method returned, passes the request it captured.
     */
    public GenerationResult generate(RoutingContext rc, LoadedModel model, GenerationParams p,
            RequestContext.Progress progress,
            RequestContext.PreviewListener previews) {
        Duration timeout = timeout(rc);
        RequestContext context = new RequestContext(Instant.now().plus(timeout), progress, previews);
        if (rc != null) {
            // An end handler, not the response's close handler, which Vert.x Web sets for its end handlers (the
            // drain count, the request metrics): they fail when the connection closes before the answer.
            rc.addEndHandler(end -> {
                if (end.failed()) {
                    context.cancel();
                }
            });
            // The client may have gone before the handler was added.
            if (rc.response().closed()) {
                context.cancel();
            }
        }
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> context.enforceDeadline());
        try (Admission.Slot slot = admission.acquire(context)) {
            try {
                GenerationResult result = context.call(() -> model.pipeline().generate(p, context));
                metrics.generated(p.cache().backend(), result);
                return result;
            } catch (RequestAbortedException e) {
                // Counted while the slot is still held, so that a free slot implies the count.
                throw aborted(e, timeout);
            } catch (InvalidInputException e) {
                throw new InvalidRequestException(e.field(), e.code(), e.getMessage());
            }
        } catch (Admission.RejectedException e) {
            throw new RateLimitedException(e.getMessage(), (int) Math.min(Integer.MAX_VALUE, e.retryAfterSeconds()));
        } catch (RequestAbortedException e) {
            throw aborted(e, timeout);
        } finally {
            vertx.cancelTimer(timer);
        }
    }

    private ApiException aborted(RequestAbortedException e, Duration timeout) {
        metrics.aborted(e.reason());
        if (e.reason() == RequestAbortedException.Reason.DEADLINE) {
            return new DeadlineExceededException("the request took longer than its " + timeout.toMillis()
                    + " ms timeout and was stopped");
        }
        return new ClientClosedException(e.getMessage());
    }

    private Duration timeout(RoutingContext rc) {
        Duration configured = config.serving().requestTimeout();
        String header = rc == null ? null : rc.request().getHeader(TIMEOUT_HEADER);
        if (header == null) {
            return configured;
        }
        double seconds;
        try {
            seconds = Double.parseDouble(header.strip());
        } catch (NumberFormatException e) {
            seconds = Double.NaN;
        }
        if (!(seconds > 0)) {
            throw new InvalidRequestException(TIMEOUT_HEADER, "must be a positive number of seconds, got '"
                    + header + "'");
        }
        Duration asked = Duration.ofNanos(Math.round(Math.min(seconds, 1e6) * 1e9));
        return asked.compareTo(configured) < 0 ? asked : configured;
    }
}
