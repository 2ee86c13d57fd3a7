package dev.ditfn.app;

import jakarta.enterprise.context.ApplicationScoped;

/** Where model loading stands; read by health checks and functions, written by the loader. */
@ApplicationScoped
public class ModelState {

    public enum Phase { LOADING, READY, FAILED }

    /** {@code stage} says what is being loaded; {@code error} is set when loading failed. */
    public record Status(Phase phase, String stage, String error, LoadedModel model) {
    }

    private volatile Status status = new Status(Phase.LOADING, "waiting for startup", null, null);

    public Status status() {
        return status;
    }

    void loading(String stage) {
        status = new Status(Phase.LOADING, stage, null, null);
    }

    void ready(LoadedModel model) {
        status = new Status(Phase.READY, "loaded", null, model);
    }

    void failed(String stage, Throwable error) {
        String message = error.getMessage() == null ? error.toString() : error.getMessage();
        status = new Status(Phase.FAILED, stage, message, null);
    }
}
