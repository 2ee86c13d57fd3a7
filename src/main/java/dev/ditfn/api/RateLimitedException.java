package dev.ditfn.api;

/** Every slot and queue place is taken: HTTP 429, with Retry-After. */
public class RateLimitedException extends ApiException {
    private final int retryAfterSeconds;

    public RateLimitedException(String message, int retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    @Override
    public String code() {
        return "rate_limit_exceeded";
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
