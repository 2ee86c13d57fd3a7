package dev.ditfn.engine.image;

import com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;
import dev.ditfn.engine.image.ImageInputException.Code;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes a client's image bytes (PNG, JPEG, WebP; the format sniffed from magic bytes, never from
 * a content type) into 8-bit {@link RgbImage}, the way the upstream Qwen-Image-Edit path sees an
 * image after diffusers' {@code load_image}: {@code ImageOps.exif_transpose} then
 * {@code convert("RGB")}.
 *
 * <p>Rules, and where they follow or leave PIL:
 * <ul>
 *   <li><b>Pixel limit</b>: width and height come from the header ({@link ImageReader#getWidth})
 *       and {@code width * height > maxPixels} is refused with {@code too_large} before any
 *       pixel is decoded (a decompression bomb never allocates).</li>
 *   <li><b>EXIF orientation</b> (JPEG only, values 1..8) is applied like {@code exif_transpose}.
 *       PNG eXIf and WebP EXIF chunks are ignored (PIL would honour them; rare in practice).</li>
 *   <li><b>Alpha</b>: by default ({@link AlphaRule#DROP}) alpha is dropped and the stored colour
 *       kept, exactly PIL's {@code convert("RGB")}, which upstream uses (diffusers
 *       {@code load_image}/{@code convert_to_rgb}, transformers {@code convert_to_rgb}); so the
 *       model sees what the reference pipeline sees, including the hidden colour of fully
 *       transparent pixels. {@link AlphaRule#WHITE} composites on white instead
 *       ({@code round(c·a/255 + 255·(1 − a/255))}, like qwen-vl-utils' {@code to_rgb}) for callers
 *       that prefer what a viewer shows over parity with the reference.</li>
 *   <li><b>Grayscale and palette</b> become RGB like PIL ({@code L→RGB} replicates, {@code P→RGB}
 *       looks the palette up). 1/2/4-bit gray scales to 0..255 as PIL's unpackers do.</li>
 *   <li><b>16-bit</b> samples keep their high byte ({@code v >> 8}). For 16-bit RGB this is exactly
 *       PIL (rawmode {@code RGB;16B}). For 16-bit grayscale PIL opens mode {@code I}/{@code I;16}
 *       and {@code convert("RGB")} <i>clips</i> at 255, turning nearly every pixel white; that is
 *       clearly wrong, so this class deviates and keeps the high byte there too.</li>
 *   <li>ICC profiles are ignored (raw samples are read, as PIL's {@code convert} does).</li>
 *   <li>CMYK/YCCK JPEGs (not decodable by the JDK reader) are refused as {@code undecodable};
 *       a truncated JPEG (which the JDK reader would grey-fill with a warning) is refused as
 *       {@code undecodable}, as PIL refuses it without {@code LOAD_TRUNCATED_IMAGES}.</li>
 * </ul>
 * WebP is read with TwelveMonkeys' pure-Java reader, instantiated directly (not through the
 * ImageIO registry, which depends on the class loader that first touched it). Lossless WebP, PNG
 * and JPEG decode identically to PIL (Pillow 9.4 / libjpeg-turbo, measured on the goldens); lossy
 * WebP does not: TwelveMonkeys' VP8 decoder differs from libwebp by a mean of about 3 levels on
 * smooth content and up to 84 levels at sharp edges, so a lossy WebP is conditioned on a slightly
 * different image than the reference pipeline would see.
 */
public final class ImageInput {

    /** Default pixel limit: 40 megapixels (e.g. 7744x5164). */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    /** What happens to an alpha channel. */
    public enum AlphaRule {
        /** Drop alpha, keep the stored colour: PIL {@code convert("RGB")}, upstream's behaviour. */
        DROP,
        /** Composite on opaque white. */
        WHITE
    }

    private final long maxPixels;
    private final AlphaRule alphaRule;

    public ImageInput(long maxPixels, AlphaRule alphaRule) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive: " + maxPixels);
        }
        this.maxPixels = maxPixels;
        this.alphaRule = alphaRule;
    }

    /** {@link #DEFAULT_MAX_PIXELS} and {@link AlphaRule#DROP}. */
    public static ImageInput defaults() {
        return new ImageInput(DEFAULT_MAX_PIXELS, AlphaRule.DROP);
    }

    public long maxPixels() {
        return maxPixels;
    }

    public AlphaRule alphaRule() {
        return alphaRule;
    }

    /**
     * Decodes {@code bytes} to upright 8-bit RGB.
     *
     * @throws ImageInputException {@code unsupported_format}, {@code undecodable} or {@code too_large}
     */
    public RgbImage decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new ImageInputException(Code.UNDECODABLE, "empty image data");
        }
        ImageFormat format = ImageFormat.sniff(bytes);
        ImageReader reader = readerFor(format);
        String name = format.name();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            int width;
            int height;
            try {
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw new ImageInputException(Code.UNDECODABLE, name + " header cannot be read", e);
            }
            if (width <= 0 || height <= 0) {
                throw new ImageInputException(Code.UNDECODABLE, name + " header declares an empty image");
            }
            if ((long) width * height > maxPixels) {
                throw new ImageInputException(Code.TOO_LARGE, "image of " + width + "x" + height + " ("
                        + (long) width * height + " pixels) exceeds the limit of " + maxPixels + " pixels");
            }
            if (format == ImageFormat.WEBP && riffTruncated(bytes)) {
                // TwelveMonkeys decodes a cut-off stream without complaint; libwebp (PIL) refuses it.
                throw new ImageInputException(Code.UNDECODABLE, name + " data is truncated");
            }
            BufferedImage image;
            try {
                image = reader.read(0);
            } catch (IOException | RuntimeException e) {
                throw new ImageInputException(Code.UNDECODABLE, name + " data cannot be decoded", e);
            }
            for (String w : warnings) {
                String lower = w.toLowerCase(Locale.ROOT);
                if (lower.contains("premature") || lower.contains("truncat")) {
                    throw new ImageInputException(Code.UNDECODABLE, name + " data is truncated");
                }
            }
            if (image.getWidth() != width || image.getHeight() != height) {
                throw new ImageInputException(Code.UNDECODABLE, name + " size disagrees with its header");
            }
            RgbImage rgb = toRgb(image, name);
            return format == ImageFormat.JPEG ? ExifOrientation.apply(rgb, ExifOrientation.read(bytes)) : rgb;
        } catch (IOException e) {
            throw new ImageInputException(Code.UNDECODABLE, name + " data cannot be read", e);
        } finally {
            reader.dispose();
        }
    }

    /** The RIFF size field (bytes 4..7, little-endian, file size − 8) promises more than was sent. */
    private static boolean riffTruncated(byte[] b) {
        long riff = (b[4] & 0xffL) | (b[5] & 0xffL) << 8 | (b[6] & 0xffL) << 16 | (b[7] & 0xffL) << 24;
        return b.length < riff + 8;
    }

    private static ImageReader readerFor(ImageFormat format) {
        if (format == ImageFormat.WEBP) {
            return new WebPImageReaderSpi().createReaderInstance(null);
        }
        Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format == ImageFormat.PNG ? "png" : "jpeg");
        while (it.hasNext()) {
            ImageReader r = it.next();
            // The JDK's own readers; a plugin on the class path must not change what we decode.
            if (r.getClass().getName().startsWith("com.sun.imageio.")) {
                return r;
            }
        }
        throw new IllegalStateException("JDK " + format + " reader unavailable");
    }

    /** Raw samples to 8-bit RGB, one row at a time (no full-image int planes). */
    private RgbImage toRgb(BufferedImage image, String name) {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        if (cm.isAlphaPremultiplied()) {
            image.coerceData(false);
            cm = image.getColorModel();
        }
        Raster raster = image.getRaster();
        IndexColorModel icm = cm instanceof IndexColorModel i ? i : null;
        int bands = raster.getNumBands();
        boolean alpha = cm.hasAlpha();
        int colour = icm != null ? 3 : bands - (alpha ? 1 : 0);
        if (icm == null && colour != 1 && colour != 3) {
            throw new ImageInputException(Code.UNDECODABLE,
                    name + " with " + bands + " channels is not supported; send RGB or grayscale");
        }
        int[] bits = raster.getSampleModel().getSampleSize();
        boolean white = alpha && alphaRule == AlphaRule.WHITE;
        int[][] row = new int[bands][w];
        int[] rgba = new int[4];
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int band = 0; band < bands; band++) {
                raster.getSamples(0, y, w, 1, band, row[band]);
                if (icm == null) {
                    to8Bit(row[band], bits[band]);
                }
            }
            for (int x = 0; x < w; x++) {
                if (icm != null) {
                    int k = row[0][x];
                    rgba[0] = icm.getRed(k);
                    rgba[1] = icm.getGreen(k);
                    rgba[2] = icm.getBlue(k);
                    rgba[3] = icm.getAlpha(k);
                } else {
                    rgba[0] = row[0][x];
                    rgba[1] = colour == 3 ? row[1][x] : rgba[0];
                    rgba[2] = colour == 3 ? row[2][x] : rgba[0];
                    rgba[3] = alpha ? row[bands - 1][x] : 255;
                }
                int o = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) {
                    out[o + c] = (byte) (white ? over(rgba[c], rgba[3]) : rgba[c]);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** {@code round(c·a/255 + 255·(255 − a)/255)} in integers. */
    private static int over(int c, int a) {
        return (c * a + 255 * (255 - a) + 127) / 255;
    }

    private static void to8Bit(int[] samples, int bits) {
        if (bits == 8) {
            return;
        }
        if (bits > 8) {
            int shift = bits - 8;
            for (int i = 0; i < samples.length; i++) {
                samples[i] >>>= shift;
            }
        } else {
            int max = (1 << bits) - 1;
            for (int i = 0; i < samples.length; i++) {
                samples[i] = samples[i] * 255 / max;
            }
        }
    }
}
