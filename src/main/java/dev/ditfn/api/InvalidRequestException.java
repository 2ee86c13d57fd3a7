package dev.ditfn.api;

/** Bad input: HTTP 400 naming the field. Nothing was changed or computed. */
public class InvalidRequestException extends ApiException {
    private final String field;

    public InvalidRequestException(String field, String message) {
        super(field == null ? message : field + ": " + message);
        this.field = field;
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
    public String field() {
        return field;
    }
}
