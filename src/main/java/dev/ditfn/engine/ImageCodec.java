package dev.ditfn.engine;

import org.w3c.dom.Node;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;

/**
 * Encodes RGB pixels as PNG (generation parameters in an {@code iTXt} chunk keyed {@code parameters}, UTF-8) or JPEG
 * (parameters in the COM segment as UTF-8 bytes), with the JDK's ImageIO writers.
 */
public final class ImageCodec {
    public enum Format {
        png, jpeg;

        public static Format parse(String s) {
            String f = s.toLowerCase(Locale.ROOT);
            return f.equals("jpg") ? jpeg : valueOf(f);
        }
    }

    public static final String PARAMETERS_KEY = "parameters";
    /** JPEG quality (0-100) unless a request asks for another. */
    public static final int DEFAULT_JPEG_QUALITY = 95;

    private ImageCodec() {
    }

    /** Packs interleaved 8-bit RGB ({@code height × width × 3}) into an image. */
    public static BufferedImage fromRgb(byte[] rgb, int width, int height) {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("expected " + width * height * 3 + " RGB bytes, got " + rgb.length);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0, i = 0; y < height; y++) {
            for (int x = 0; x < width; x++, i += 3) {
                img.setRGB(x, y, (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | rgb[i + 2] & 0xff);
            }
        }
        return img;
    }

    /** @param jpegQuality 0 (smallest) to 100 (best), used for JPEG only */
    public static byte[] encode(BufferedImage image, Format format, int jpegQuality, String parameters) {
        ImageWriter writer = writer(format);
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (format == Format.jpeg) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(jpegQuality / 100f);
            }
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            addParameters(metadata, format, parameters);
            writer.write(null, new IIOImage(image, null, metadata), param);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + format + ": " + e.getMessage(), e);
        } finally {
            writer.dispose();
        }
    }

    private static ImageWriter writer(Format format) {
        Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName(format.name());
        if (!it.hasNext()) {
            throw new IllegalStateException("no ImageIO writer for " + format);
        }
        return it.next();
    }

    private static void addParameters(IIOMetadata metadata, Format format, String parameters)
            throws IIOInvalidTreeException {
        String formatName = metadata.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree(formatName);
        if (format == Format.png) {
            // iTXt, not tEXt: tEXt is Latin-1, and prompts are any language
            IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
            entry.setAttribute("keyword", PARAMETERS_KEY);
            entry.setAttribute("compressionFlag", "FALSE");
            entry.setAttribute("compressionMethod", "0");
            entry.setAttribute("languageTag", "");
            entry.setAttribute("translatedKeyword", "");
            entry.setAttribute("text", parameters);
            IIOMetadataNode text = new IIOMetadataNode("iTXt");
            text.appendChild(entry);
            root.appendChild(text);
        } else {
            // COM declares no charset; ImageIO would encode the comment attribute in the platform charset, so the
            // bytes are given as the node's user object. (ImageIO's reader shows them as Latin-1 in "comment".)
            IIOMetadataNode com = new IIOMetadataNode("com");
            com.setUserObject(parameters.getBytes(StandardCharsets.UTF_8));
            Node sequence = root.getElementsByTagName("markerSequence").item(0);
            sequence.appendChild(com);
        }
        metadata.setFromTree(formatName, root);
    }
}
