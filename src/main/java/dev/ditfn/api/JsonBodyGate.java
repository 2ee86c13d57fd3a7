package dev.ditfn.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.io.IOException;

/**
 * Runs before Funqy on plain HTTP calls of {@code generate}. Only JSON bodies are taken: a {@code text/plain} or form
 * POST can be sent by any web page without a CORS preflight, and a GET by an image tag, so either would let other
 * sites start generations. The body is read here with the same strict mapper Funqy uses, because Funqy answers its own
 * read failures with an empty 400 and an ERROR-level stack trace; read here, they become a 400 naming the field.
 * CloudEvents pass through: Funqy reads their data itself and its failures reach {@link ErrorMapping}.
 */
@ApplicationScoped
public class JsonBodyGate {
    @Inject
    ObjectMapper mapper;

    void register(@Observes Router router) {
        ObjectReader reader = mapper.readerFor(GenerateRequest.class);
        // Funqy's routes have no explicit order (they get 0, 1, ... as added); the body handler comes before both.
        router.route("/generate").order(RouteConstants.ROUTE_ORDER_BODY_HANDLER + 1).handler(ctx -> check(ctx, reader));
    }

    private static void check(RoutingContext ctx, ObjectReader reader) {
        HttpServerRequest request = ctx.request();
        if (request.method() != HttpMethod.POST) {
            ctx.fail(new RequestRefusedException(405, "method_not_allowed", "generate takes POST with a JSON body, not "
                    + request.method()));
            return;
        }
        String contentType = request.getHeader("Content-Type");
        if (request.headers().contains("ce-id") || mediaType(contentType).equals("application/cloudevents+json")) {
            ctx.next();
            return;
        }
        if (!mediaType(contentType).equals("application/json")) {
            ctx.fail(new RequestRefusedException(415, "unsupported_media_type", "the body must be JSON sent as "
                    + "Content-Type: application/json (or a CloudEvent), was "
                    + (contentType == null ? "no Content-Type" : "'" + contentType + "'")));
            return;
        }
        Buffer body = ctx.body().buffer();
        // An empty body reaches the function as no request, which says what is missing.
        if (body != null && body.length() > 0) {
            try {
                reader.readValue(body.getBytes());
            } catch (JsonProcessingException e) {
                ctx.fail(StrictJson.toInvalidRequest(e));
                return;
            } catch (IOException e) {
                ctx.fail(e);
                return;
            }
        }
        ctx.next();
    }

    private static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(java.util.Locale.ROOT);
    }
}
