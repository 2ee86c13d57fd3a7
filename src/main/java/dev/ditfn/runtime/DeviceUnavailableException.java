package dev.ditfn.runtime;

/** The configured device cannot be initialised; the message says what is missing and how to provide it. */
public class DeviceUnavailableException extends RuntimeException {
    public DeviceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
