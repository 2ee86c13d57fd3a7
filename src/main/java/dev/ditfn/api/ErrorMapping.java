package dev.ditfn.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.quarkus.funqy.runtime.ApplicationException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Turns failures into JSON errors with the right status. Funqy maps every exception to 500; this handler runs
 * first and answers {@link ApiException}s with their own status, Jackson's refusals of a CloudEvent's data with a
 * 400 naming the field, a body over the size limit with 413, and anything else with 500 and a generic message
 * (details go to the log, not to the caller). Plain HTTP bodies are read before Funqy by {@link JsonBodyGate}.
 */
@ApplicationScoped
public class ErrorMapping {
    private static final Logger LOG = Logger.getLogger(ErrorMapping.class);

    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    String maxBodySize;

    void register(@Observes Router router) {
        router.route().order(-1000).failureHandler(this::handle);
    }

    private void handle(RoutingContext ctx) {
        if (ctx.response().ended()) {
            ctx.next();
            return;
        }
        Throwable failure = ctx.failure();
        ApiException api = clientError(ctx, failure);
        if (api != null) {
            // The caller's mistake: one line for whoever debugs a client, no stack trace.
            LOG.debugf("%d for %s %s: %s", api.status(), ctx.request().method(), ctx.request().path(), api.getMessage());
            respond(ctx, api);
        } else if (failure != null && (failure instanceof ApplicationException || ctx.statusCode() >= 500
                || ctx.statusCode() < 0)) {
            LOG.error("request failed", failure);
            respond(ctx, 500, "server_error", "internal_error", "internal error: " + failure.getClass().getSimpleName()
                    + " (see the server log)", null);
        } else {
            ctx.next();
        }
    }

    private ApiException clientError(RoutingContext ctx, Throwable failure) {
        if (failure == null) {
            // The body handler refuses an oversized body with a bare status.
            return ctx.statusCode() == 413 ? new RequestRefusedException(413, "request_too_large",
                    "the body is larger than the " + maxBodySize + " limit") : null;
        }
        ApiException api = find(failure, ApiException.class);
        if (api != null) {
            return api;
        }
        JsonProcessingException json = find(failure, JsonProcessingException.class);
        return json != null && StrictJson.isInputError(json) ? StrictJson.toInvalidRequest(json) : null;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    private static void respond(RoutingContext ctx, ApiException e) {
        if (e.retryAfterSeconds() != null) {
            ctx.response().putHeader("Retry-After", String.valueOf(e.retryAfterSeconds()));
        }
        respond(ctx, e.status(), e.type(), e.code(), e.getMessage(), e.field());
    }

    private static void respond(RoutingContext ctx, int status, String type, String code, String message,
            String field) {
        JsonObject error = new JsonObject().put("message", message).put("type", type).put("param", field)
                .put("code", code);
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", error).encode());
    }
}
