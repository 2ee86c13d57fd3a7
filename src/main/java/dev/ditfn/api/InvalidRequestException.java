package dev.ditfn.api;

/** Bad input: HTTP 400 naming the field. Nothing was changed or computed. */
public class InvalidRequestException extends ApiException {
    private final String field;
    private final String code;

    /** A value of the right type that is not allowed (out of range, unknown name, inconsistent with another). */
    public InvalidRequestException(String field, String message) {
        this(field, "invalid_value", message);
    }

    public InvalidRequestException(String field, String code, String message) {
        super(field == null ? message : field + ": " + message);
        this.field = field;
        this.code = code;
    }

    @Override
    public int status() {
        return 400;
    }

    @Override
    public String type() {
        return "invalid_request_error";
    }

    @Override
    public String code() {
        return code;
    }

    @Override
    public String field() {
        return field;
    }
}
