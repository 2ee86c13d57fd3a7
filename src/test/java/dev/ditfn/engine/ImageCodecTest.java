package dev.ditfn.engine;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageCodecTest {
    private static final byte[] RGB = {(byte) 255, 0, 0, 0, (byte) 255, 0, 0, 0, (byte) 255, 10, 20, 30};

    @Test
    void pngIsLosslessAndCarriesTheParameters() throws IOException {
        byte[] png = ImageCodec.encode(ImageCodec.fromRgb(RGB, 2, 2), ImageCodec.Format.png,
                ImageCodec.DEFAULT_JPEG_QUALITY, "{\"seed\":7}");
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(2, back.getWidth());
        assertEquals(0xff0000, back.getRGB(0, 0) & 0xffffff);
        assertEquals(0x0a141e, back.getRGB(1, 1) & 0xffffff);
        assertTrue(metadataText(png, "png").contains("parameters") && metadataText(png, "png").contains("{\"seed\":7}"));
    }

    @Test
    void jpegDecodesAndCarriesTheParametersAsComment() throws IOException {
        byte[] jpeg = ImageCodec.encode(ImageCodec.fromRgb(RGB, 2, 2), ImageCodec.Format.jpeg,
                ImageCodec.DEFAULT_JPEG_QUALITY, "steps=3");
        assertEquals((byte) 0xFF, jpeg[0]);
        assertEquals((byte) 0xD8, jpeg[1]);
        assertEquals(2, ImageIO.read(new ByteArrayInputStream(jpeg)).getHeight());
        assertTrue(metadataText(jpeg, "jpeg").contains("steps=3"));
    }

    private static final String NON_LATIN = "{\"prompt\":\"一只红色的狐狸 — café\",\"seed\":7}";

    @Test
    void pngParametersKeepNonLatinTextExactly() throws IOException {
        byte[] png = ImageCodec.encode(ImageCodec.fromRgb(RGB, 2, 2), ImageCodec.Format.png,
                ImageCodec.DEFAULT_JPEG_QUALITY, NON_LATIN);
        IIOMetadataNode root = nativeTree(png, "png");
        List<String> texts = new ArrayList<>();
        NodeList entries = root.getElementsByTagName("iTXtEntry");
        for (int i = 0; i < entries.getLength(); i++) {
            Element e = (Element) entries.item(i);
            if (e.getAttribute("keyword").equals(ImageCodec.PARAMETERS_KEY)) {
                texts.add(e.getAttribute("text"));
            }
        }
        assertEquals(List.of(NON_LATIN), texts, "one UTF-8 iTXt chunk keyed parameters");
        assertEquals(0, root.getElementsByTagName("tEXtEntry").getLength(), "no Latin-1 copy beside it");
    }

    /** COM segments declare no charset: the parameters are written as UTF-8 bytes, whatever the platform charset. */
    @Test
    void jpegCommentKeepsNonLatinTextAsUtf8() throws IOException {
        byte[] jpeg = ImageCodec.encode(ImageCodec.fromRgb(RGB, 2, 2), ImageCodec.Format.jpeg,
                ImageCodec.DEFAULT_JPEG_QUALITY, NON_LATIN);
        NodeList com = nativeTree(jpeg, "jpeg").getElementsByTagName("com");
        assertEquals(1, com.getLength());
        byte[] raw = (byte[]) ((IIOMetadataNode) com.item(0)).getUserObject();
        assertEquals(NON_LATIN, new String(raw, StandardCharsets.UTF_8));
    }

    @Test
    void formatNames() {
        assertEquals(ImageCodec.Format.jpeg, ImageCodec.Format.parse("JPG"));
        assertEquals(ImageCodec.Format.png, ImageCodec.Format.parse("png"));
        assertThrows(IllegalArgumentException.class, () -> ImageCodec.Format.parse("gif"));
        assertThrows(IllegalArgumentException.class, () -> ImageCodec.fromRgb(new byte[5], 2, 2));
    }

    private static String metadataText(byte[] data, String format) throws IOException {
        StringBuilder sb = new StringBuilder();
        collect(nativeTree(data, format), sb);
        return sb.toString();
    }

    private static IIOMetadataNode nativeTree(byte[] data, String format) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            ImageReader reader = ImageIO.getImageReadersByFormatName(format).next();
            reader.setInput(in);
            var meta = reader.getImageMetadata(0);
            return (IIOMetadataNode) meta.getAsTree(meta.getNativeMetadataFormatName());
        }
    }

    private static void collect(org.w3c.dom.Node n, StringBuilder sb) {
        if (n.getAttributes() != null) {
            for (int i = 0; i < n.getAttributes().getLength(); i++) {
                sb.append(n.getAttributes().item(i).getNodeValue()).append(' ');
            }
        }
        for (var c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
            collect(c, sb);
        }
    }
}
