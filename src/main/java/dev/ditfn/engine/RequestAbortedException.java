package dev.ditfn.engine;

/** A request stopped between denoising steps: cancelled by its client, or past its deadline. */
public final class RequestAbortedException extends RuntimeException {

    public enum Reason { CANCELLED, DEADLINE }

    private final Reason reason;

    public RequestAbortedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
