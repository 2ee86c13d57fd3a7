package dev.ditfn.engine.image;

/**
 * A client-supplied image that cannot be used. {@link #code()} is a stable machine code for the
 * HTTP layer; {@link #getMessage()} is written to be safe to show to the client (it never carries
 * a stack trace, a path or a library's internal message).
 */
public final class ImageInputException extends RuntimeException {

    /** Why the image was refused; {@link #wire()} is the string a client sees. */
    public enum Code {
        /** The bytes are not PNG, JPEG or WebP (or are a recognised format this service refuses). */
        UNSUPPORTED_FORMAT("unsupported_format"),
        /** The bytes claim a supported format but cannot be decoded (truncated, corrupt, odd colour type). */
        UNDECODABLE("undecodable"),
        /** The header declares more pixels than the configured limit; refused before any pixel is decoded. */
        TOO_LARGE("too_large"),
        /** Decodable, but its shape cannot be prepared (aspect ratio above 200, as upstream refuses). */
        UNSUPPORTED_DIMENSIONS("unsupported_dimensions");

        private final String wire;

        Code(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    private final Code code;

    public ImageInputException(Code code, String clientMessage) {
        super(clientMessage);
        this.code = code;
    }

    public ImageInputException(Code code, String clientMessage, Throwable cause) {
        super(clientMessage, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
