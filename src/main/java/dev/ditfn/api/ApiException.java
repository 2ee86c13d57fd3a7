package dev.ditfn.api;

/** An error meant for the caller, with the HTTP status it maps to; the message says what to change. */
public abstract class ApiException extends RuntimeException {
    protected ApiException(String message) {
        super(message);
    }

    public abstract int status();

    /** The OpenAI-style error type. */
    public abstract String type();

    /** The request field at fault, or null. */
    public String field() {
        return null;
    }
}
