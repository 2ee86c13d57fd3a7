package dev.ditfn.api;

/** The request passed its deadline (queueing included) and its work was stopped: HTTP 504. */
public class DeadlineExceededException extends ApiException {
    public DeadlineExceededException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "deadline_exceeded";
    }

    @Override
    public int status() {
        return 504;
    }

    @Override
    public String type() {
        return "timeout_error";
    }
}
