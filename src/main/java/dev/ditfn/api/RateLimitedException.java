package dev.ditfn.api;

/** Every slot and queue place is taken: HTTP 429, with Retry-After set on the response. */
public class RateLimitedException extends ApiException {
    public RateLimitedException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 429;
    }

    @Override
    public String type() {
        return "rate_limit_exceeded";
    }
}
