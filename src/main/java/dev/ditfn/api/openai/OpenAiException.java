package dev.ditfn.api.openai;

import dev.ditfn.api.InvalidRequestException;

/** A 400 (or another client status) with OpenAI's machine-readable {@code code}, e.g. {@code unknown_parameter}. */
final class OpenAiException extends InvalidRequestException {
    private final int status;
    private final String code;

    OpenAiException(int status, String param, String code, String message) {
        super(param, message);
        this.status = status;
        this.code = code;
    }

    static OpenAiException invalid(String param, String code, String message) {
        return new OpenAiException(400, param, code, message);
    }

    @Override
    public int status() {
        return status;
    }

    String code() {
        return code;
    }
}
