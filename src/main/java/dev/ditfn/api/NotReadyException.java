package dev.ditfn.api;

/** The model is still loading (or failed to load, or the instance is draining): HTTP 503, try again later. */
public class NotReadyException extends ApiException {
    /** Short: a load finishes in seconds to minutes, and a retry may land on another instance. */
    private static final int RETRY_AFTER_SECONDS = 5;

    public NotReadyException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 503;
    }

    @Override
    public String type() {
        return "service_unavailable";
    }

    @Override
    public String code() {
        return "model_not_ready";
    }

    @Override
    public Integer retryAfterSeconds() {
        return RETRY_AFTER_SECONDS;
    }
}
