package dev.ditfn.app;

import jakarta.enterprise.context.ApplicationScoped;

/** Where model loading stands; read by health checks and functions, written by the loader. */
@ApplicationScoped
public class ModelState {

    /** DRAINING: shutting down; requests already running finish on the model, new ones are refused. */
    public enum Phase { LOADING, READY, FAILED, DRAINING }

    /** {@code stage} says what is being loaded; {@code error} is set when loading failed. */
    public record Status(Phase phase, String stage, String error, LoadedModel model) {
    }

    private volatile Status status = new Status(Phase.LOADING, "waiting for startup", null, null);

    public Status status() {
        return status;
    }

    synchronized void loading(String stage) {
        status = new Status(Phase.LOADING, stage, null, null);
    }

    synchronized void ready(LoadedModel model) {
        status = new Status(Phase.READY, "loaded", null, model);
    }

    /** From READY only: a model that is loading or failed has no requests to drain. */
    synchronized void draining() {
        if (status.phase() == Phase.READY) {
            status = new Status(Phase.DRAINING, "shutting down", null, status.model());
        }
    }

    synchronized void failed(String stage, String error) {
        status = new Status(Phase.FAILED, stage, error, null);
    }
}
