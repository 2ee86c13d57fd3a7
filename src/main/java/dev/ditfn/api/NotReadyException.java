package dev.ditfn.api;

/** The model is still loading (or failed to load): HTTP 503, try again later. */
public class NotReadyException extends ApiException {
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
}
