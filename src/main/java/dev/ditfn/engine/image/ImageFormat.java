package dev.ditfn.engine.image;

/** The encoded formats {@link ImageInput} accepts, recognised by their magic bytes only. */
public enum ImageFormat {
    PNG,
    JPEG,
    WEBP;

    /**
     * The format whose signature starts {@code bytes}: PNG {@code 89 'PNG' 0D 0A 1A 0A}, JPEG
     * {@code FF D8 FF}, WebP {@code 'RIFF' <4 bytes> 'WEBP'}.
     *
     * @throws ImageInputException {@code unsupported_format} for anything else (a few common
     *     formats are named in the message)
     */
    public static ImageFormat sniff(byte[] bytes) {
        if (startsWith(bytes, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return PNG;
        }
        if (startsWith(bytes, 0, 0xFF, 0xD8, 0xFF)) {
            return JPEG;
        }
        if (startsWith(bytes, 0, 'R', 'I', 'F', 'F') && startsWith(bytes, 8, 'W', 'E', 'B', 'P')) {
            return WEBP;
        }
        String known = null;
        if (startsWith(bytes, 0, 'G', 'I', 'F', '8')) {
            known = "GIF";
        } else if (startsWith(bytes, 0, 'B', 'M')) {
            known = "BMP";
        } else if (startsWith(bytes, 0, 'I', 'I', 0x2A, 0x00) || startsWith(bytes, 0, 'M', 'M', 0x00, 0x2A)) {
            known = "TIFF";
        } else if (startsWith(bytes, 4, 'f', 't', 'y', 'p')) {
            known = "HEIF/AVIF";
        }
        throw new ImageInputException(ImageInputException.Code.UNSUPPORTED_FORMAT,
                (known == null ? "unrecognised image data" : known + " images are not supported")
                        + "; send PNG, JPEG or WebP");
    }

    private static boolean startsWith(byte[] bytes, int offset, int... sig) {
        if (bytes.length < offset + sig.length) {
            return false;
        }
        for (int i = 0; i < sig.length; i++) {
            if ((bytes[offset + i] & 0xff) != sig[i]) {
                return false;
            }
        }
        return true;
    }
}
