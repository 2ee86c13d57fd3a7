package dev.ditfn.testing;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The decoded pixels of encoded images (their metadata may differ), for comparing what two runs drew. */
public final class Pixels {
    private Pixels() {
    }

    /** RGB of an encoded image, row by row. */
    public static int[] rgb(byte[] encoded) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(encoded));
            return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The largest difference of one 8-bit channel between two encoded images of the same size. */
    public static int maxChannelDifference(byte[] encodedA, byte[] encodedB) {
        int[] a = rgb(encodedA);
        int[] b = rgb(encodedB);
        if (a.length != b.length) {
            throw new IllegalArgumentException("the images differ in size: " + a.length + " vs " + b.length
                    + " pixels");
        }
        int most = 0;
        for (int i = 0; i < a.length; i++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                most = Math.max(most, Math.abs(((a[i] >> shift) & 0xff) - ((b[i] >> shift) & 0xff)));
            }
        }
        return most;
    }
}
