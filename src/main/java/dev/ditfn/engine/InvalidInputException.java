package dev.ditfn.engine;

/**
 * A request the pipeline cannot serve, found while preparing it (an input image that cannot be resized as the model
 * needs, a prompt whose tokens do not fit the model's positions): the client's error, named by request field. Thrown
 * before any denoising step runs.
 */
public class InvalidInputException extends RuntimeException {
    private final String field;
    private final String code;

    public InvalidInputException(String field, String code, String message) {
        super(message);
        this.field = field;
        this.code = code;
    }

    /** The request field at fault, e.g. {@code images[1]} or {@code prompt}. */
    public String field() {
        return field;
    }

    /** A machine-readable reason, e.g. {@code unsupported_dimensions}. */
    public String code() {
        return code;
    }
}
