package dev.ditfn.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
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
 * Runs before Funqy on plain HTTP calls of {@code generate} and {@code edit}. Only JSON bodies are taken: a {@code text/plain} or form
 * POST can be sent by any web page without a CORS preflight, and a GET by an image tag, so either would let other
 * sites start generations. The body is read here with the same strict mapper Funqy uses, because Funqy answers its own
 * read failures with an empty 400 and an ERROR-level stack trace; read here, they become a 400 naming the field.
 * CloudEvents (here and at the root) are checked only for what Funqy would fail on with a 500; Funqy reads their
 * data itself with the same mapper, and its failures reach {@link ErrorMapping}.
 */
@ApplicationScoped
public class JsonBodyGate {
    @Inject
    ObjectMapper mapper;

    void register(@Observes Router router) {
        // Funqy's routes have no explicit order (they get 0, 1, ... as added); the body handler comes before both.
        for (var function : java.util.Map.of("generate", GenerateRequest.class, "edit", EditRequest.class)
                .entrySet()) {
            ObjectReader reader = mapper.readerFor(function.getValue());
            router.route("/" + function.getKey()).order(RouteConstants.ROUTE_ORDER_BODY_HANDLER + 1)
                    .handler(ctx -> check(ctx, reader, function.getKey()));
        }
        router.post("/").order(RouteConstants.ROUTE_ORDER_BODY_HANDLER + 1).handler(ctx -> {
            if (isCloudEvent(ctx.request())) {
                checkCloudEvent(ctx);
            } else {
                ctx.next();
            }
        });
    }

    private static boolean isCloudEvent(HttpServerRequest request) {
        return request.headers().contains("ce-id")
                || mediaType(request.getHeader("Content-Type")).equals("application/cloudevents+json");
    }

    /**
     * What Funqy does not check before it uses it (a NullPointerException, so a 500, otherwise): a body at all, and a
     * structured event's {@code type} and {@code specversion}. The data itself Funqy reads with the strict mapper.
     */
    private void checkCloudEvent(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        if (body == null || body.length() == 0) {
            ctx.fail(emptyBody());
            return;
        }
        if (!ctx.request().headers().contains("ce-id")) {
            Parsed<JsonNode> parsed = read(ctx, body, mapper.readerFor(JsonNode.class));
            if (parsed == null) {
                return;
            }
            JsonNode event = parsed.value() == null ? mapper.nullNode() : parsed.value();
            for (String attribute : new String[] {"specversion", "type"}) {
                if (!event.path(attribute).isTextual()) {
                    ctx.fail(new InvalidRequestException(attribute, "invalid_value",
                            "a structured CloudEvent needs the attribute as a string"));
                    return;
                }
            }
        }
        ctx.next();
    }

    /** A body that was read; its value may be null (the JSON {@code null}). */
    private record Parsed<T>(T value) {
    }

    /** {@code body} read by {@code reader}; null after failing {@code ctx} with the 400 naming the field. */
    private static <T> Parsed<T> read(RoutingContext ctx, Buffer body, ObjectReader reader) {
        try {
            return new Parsed<>(reader.readValue(body.getBytes()));
        } catch (JsonProcessingException e) {
            ctx.fail(StrictJson.toInvalidRequest(e));
        } catch (IOException e) {
            ctx.fail(e);
        }
        return null;
    }

    private static InvalidRequestException emptyBody() {
        return new InvalidRequestException(null, "invalid_json",
                "the body is empty; it must be a JSON object with at least a prompt");
    }

    private void check(RoutingContext ctx, ObjectReader reader, String function) {
        HttpServerRequest request = ctx.request();
        if (request.method() != HttpMethod.POST) {
            ctx.fail(new RequestRefusedException(405, "method_not_allowed", function + " takes POST with a JSON body,"
                    + " not " + request.method()));
            return;
        }
        String contentType = request.getHeader("Content-Type");
        if (isCloudEvent(request)) {
            checkCloudEvent(ctx);
            return;
        }
        if (!mediaType(contentType).equals("application/json")) {
            ctx.fail(new RequestRefusedException(415, "unsupported_media_type", "the body must be JSON sent as "
                    + "Content-Type: application/json (or a CloudEvent), was "
                    + (contentType == null ? "no Content-Type" : "'" + contentType + "'")));
            return;
        }
        Buffer body = ctx.body().buffer();
        // Funqy fails on an empty body with a NullPointerException.
        if (body == null || body.length() == 0) {
            ctx.fail(emptyBody());
            return;
        }
        if (read(ctx, body, reader) != null) {
            ctx.next();
        }
    }

    private static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(java.util.Locale.ROOT);
    }
}
