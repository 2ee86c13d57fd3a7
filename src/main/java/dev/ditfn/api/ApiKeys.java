package dev.ditfn.api;

import dev.ditfn.config.DitConfig;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * Optional bearer keys ({@code dit.serving.api-keys}): when configured, every request outside {@code /q/} (health,
 * metrics) must carry {@code Authorization: Bearer <key>}; otherwise it is refused with 401 before its body is read.
 */
@ApplicationScoped
public class ApiKeys {
    private static final String BEARER = "Bearer ";

    @Inject
    DitConfig config;

    void register(@Observes Router router) {
        List<byte[]> keys = config.serving().apiKeys().orElse(List.of()).stream().map(String::strip)
                .filter(k -> !k.isEmpty()).map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        if (keys.isEmpty()) {
            return;
        }
        router.route().order(Integer.MIN_VALUE + 1).handler(rc -> {
            String header = rc.request().getHeader("Authorization");
            if (rc.request().path().startsWith("/q/") || header != null && header.startsWith(BEARER)
                    && known(keys, header.substring(BEARER.length()).strip())) {
                rc.next();
                return;
            }
            rc.response().putHeader("WWW-Authenticate", "Bearer");
            rc.fail(new UnauthorizedException(header == null
                    ? "an API key is required: send Authorization: Bearer <key>"
                    : "the API key is not valid"));
        });
    }

    /** Compared in constant time, so response times do not leak how much of a key was right. */
    private static boolean known(List<byte[]> keys, String presented) {
        byte[] p = presented.getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (byte[] k : keys) {
            match |= MessageDigest.isEqual(k, p);
        }
        return match;
    }
}
