package dev.ditfn.api;

import io.quarkus.funqy.runtime.ApplicationException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Turns failures into JSON errors with the right status. Funqy maps every exception to 500; this handler runs
 * first and answers {@link ApiException}s with their own status and anything else with 500 and a generic message
 * (details go to the log, not to the caller). Unparsable bodies never get here: Funqy answers them with 400.
 */
@ApplicationScoped
public class ErrorMapping {
    private static final Logger LOG = Logger.getLogger(ErrorMapping.class);

    void register(@Observes Router router) {
        router.route().order(-1000).failureHandler(this::handle);
    }

    private void handle(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure == null || ctx.response().ended()) {
            ctx.next();
            return;
        }
        ApiException api = find(failure, ApiException.class);
        if (api != null) {
            respond(ctx, api.status(), api.type(), api.getMessage(), api.field());
        } else if (failure instanceof ApplicationException || ctx.statusCode() >= 500 || ctx.statusCode() < 0) {
            LOG.error("request failed", failure);
            respond(ctx, 500, "server_error", "internal error: " + failure.getClass().getSimpleName()
                    + " (see the server log)", null);
        } else {
            ctx.next();
        }
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    private static void respond(RoutingContext ctx, int status, String type, String message, String field) {
        JsonObject error = new JsonObject().put("message", message).put("type", type);
        if (field != null) {
            error.put("param", field);
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", error).encode());
    }
}
