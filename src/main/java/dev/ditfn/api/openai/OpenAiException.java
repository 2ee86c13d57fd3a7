package dev.ditfn.api.openai;

import dev.ditfn.api.InvalidRequestException;

/** A client error of this front door with its own status (400, or 404 for an unknown model) and {@code code}. */
final class OpenAiException extends InvalidRequestException {
    private final int status;

    OpenAiException(int status, String param, String code, String message) {
        super(param, code, message);
        this.status = status;
    }

    static OpenAiException invalid(String param, String code, String message) {
        return new OpenAiException(400, param, code, message);
    }

    @Override
    public int status() {
        return status;
    }
}
