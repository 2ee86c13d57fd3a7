package dev.ditfn.engine;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageCodecTest {
    private static final byte[] RGB = {(byte) 255, 0, 0, 0, (byte) 255, 0, 0, 0, (byte) 255, 10, 20, 30};

    @Test
    void pngIsLosslessAndCarriesTheParameters() throws IOException {
        byte[] png = ImageCodec.encode(ImageCodec.fromRgb(RGB, 2, 2), ImageCodec.Format.png, "{\"seed\":7}");
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(2, back.getWidth());
        assertEquals(0xff0000, back.getRGB(0, 0) & 0xffffff);
        assertEquals(0x0a141e, back.getRGB(1, 1) & 0xffffff);
        assertTrue(metadataText(png, "png").contains("parameters") && metadataText(png, "png").contains("{\"seed\":7}"));
    }

    @Test
    void jpegDecodesAndCarriesTheParametersAsComment() throws IOException {
        byte[] jpeg = ImageCodec.encode(ImageCodec.fromRgb(RGB, 2, 2), ImageCodec.Format.jpeg, "steps=3");
        assertEquals((byte) 0xFF, jpeg[0]);
        assertEquals((byte) 0xD8, jpeg[1]);
        assertEquals(2, ImageIO.read(new ByteArrayInputStream(jpeg)).getHeight());
        assertTrue(metadataText(jpeg, "jpeg").contains("steps=3"));
    }

    @Test
    void formatNames() {
        assertEquals(ImageCodec.Format.jpeg, ImageCodec.Format.parse("JPG"));
        assertEquals(ImageCodec.Format.png, ImageCodec.Format.parse("png"));
        assertThrows(IllegalArgumentException.class, () -> ImageCodec.Format.parse("gif"));
        assertThrows(IllegalArgumentException.class, () -> ImageCodec.fromRgb(new byte[5], 2, 2));
    }

    private static String metadataText(byte[] data, String format) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            ImageReader reader = ImageIO.getImageReadersByFormatName(format).next();
            reader.setInput(in);
            var meta = reader.getImageMetadata(0);
            IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(meta.getNativeMetadataFormatName());
            StringBuilder sb = new StringBuilder();
            collect(root, sb);
            return sb.toString();
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
