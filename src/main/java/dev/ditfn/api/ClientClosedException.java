package dev.ditfn.api;

/** The client went away and its work was stopped. Nobody reads the answer; 499 keeps it out of the 5xx. */
public class ClientClosedException extends ApiException {
    public ClientClosedException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "client_closed";
    }

    @Override
    public int status() {
        return 499;
    }

    @Override
    public String type() {
        return "cancelled";
    }
}
