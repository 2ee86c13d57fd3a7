package dev.ditfn.api;

/** A request refused for its form rather than its fields: wrong method (405), too large (413), not JSON (415). */
public class RequestRefusedException extends ApiException {
    private final int status;
    private final String code;

    public RequestRefusedException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public String type() {
        return "invalid_request_error";
    }

    @Override
    public String code() {
        return code;
    }
}
