package dev.ditfn.api;

/** An error meant for the caller, with the HTTP status it maps to; the message says what to change. */
public abstract class ApiException extends RuntimeException {
    protected ApiException(String message) {
        super(message);
    }

    public abstract int status();

    /** The OpenAI-style error type. */
    public abstract String type();

    /** A stable, machine-readable reason ({@code invalid_type}, {@code unknown_parameter}, ...). */
    public abstract String code();

    /** The request field at fault, or null. */
    public String field() {
        return null;
    }

    /** Seconds after which a retry may succeed (the {@code Retry-After} header), or null. */
    public Integer retryAfterSeconds() {
        return null;
    }
}
