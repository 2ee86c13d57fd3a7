package dev.ditfn.engine.image;

/**
 * An 8-bit RGB image, row-major, channels interleaved: pixel (x, y) channel c is
 * {@code rgb[(y * width + x) * 3 + c]} read as unsigned ({@code & 0xff}).
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
        }
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException(
                    "rgb holds " + rgb.length + " bytes, " + width + "x" + height + "x3 needs " + (long) width * height * 3);
        }
    }

    /** Channel {@code c} of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xff;
    }
}
