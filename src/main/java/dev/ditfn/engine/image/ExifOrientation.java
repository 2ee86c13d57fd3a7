package dev.ditfn.engine.image;

/**
 * EXIF orientation (tag 0x0112 of IFD0) of a JPEG, read with a minimal APP1/TIFF parse, and its
 * application as PIL's {@code ImageOps.exif_transpose} does (which diffusers' {@code load_image}
 * calls before {@code convert("RGB")}). Values outside 1..8, missing or malformed EXIF read as 1.
 */
public final class ExifOrientation {

    private static final int TAG_ORIENTATION = 0x0112;
    private static final int TYPE_SHORT = 3;

    private ExifOrientation() {
    }

    /** The orientation value 1..8 of a JPEG ({@code bytes} from its SOI), 1 when absent or invalid. */
    public static int read(byte[] jpeg) {
        int p = 2;
        while (p + 4 <= jpeg.length) {
            if ((jpeg[p] & 0xff) != 0xFF) {
                return 1;
            }
            int marker = jpeg[p + 1] & 0xff;
            if (marker == 0xFF) { // fill byte
                p++;
                continue;
            }
            if (marker == 0xDA || marker == 0xD9) { // start of scan / end of image: no EXIF before it
                return 1;
            }
            int len = u16(jpeg, p + 2, true);
            if (len < 2 || p + 2 + len > jpeg.length) {
                return 1;
            }
            if (marker == 0xE1 && len >= 8 && jpeg[p + 4] == 'E' && jpeg[p + 5] == 'x' && jpeg[p + 6] == 'i'
                    && jpeg[p + 7] == 'f' && jpeg[p + 8] == 0 && jpeg[p + 9] == 0) {
                return fromTiff(jpeg, p + 10, p + 2 + len);
            }
            p += 2 + len;
        }
        return 1;
    }

    private static int fromTiff(byte[] b, int tiff, int end) {
        if (tiff + 8 > end) {
            return 1;
        }
        boolean bigEndian;
        if (b[tiff] == 'M' && b[tiff + 1] == 'M') {
            bigEndian = true;
        } else if (b[tiff] == 'I' && b[tiff + 1] == 'I') {
            bigEndian = false;
        } else {
            return 1;
        }
        if (u16(b, tiff + 2, bigEndian) != 42) {
            return 1;
        }
        long ifd = u32(b, tiff + 4, bigEndian);
        if (ifd < 8 || tiff + ifd + 2 > end) {
            return 1;
        }
        int at = (int) (tiff + ifd);
        int n = u16(b, at, bigEndian);
        for (int i = 0; i < n; i++) {
            int e = at + 2 + 12 * i;
            if (e + 12 > end) {
                return 1;
            }
            if (u16(b, e, bigEndian) == TAG_ORIENTATION) {
                if (u16(b, e + 2, bigEndian) != TYPE_SHORT || u32(b, e + 4, bigEndian) < 1) {
                    return 1;
                }
                int v = u16(b, e + 8, bigEndian);
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] b, int p, boolean bigEndian) {
        int a = b[p] & 0xff;
        int c = b[p + 1] & 0xff;
        return bigEndian ? (a << 8) | c : (c << 8) | a;
    }

    private static long u32(byte[] b, int p, boolean bigEndian) {
        long hi = u16(b, bigEndian ? p : p + 2, bigEndian);
        long lo = u16(b, bigEndian ? p + 2 : p, bigEndian);
        return (hi << 16) | lo;
    }

    /**
     * {@code image} turned upright for EXIF orientation {@code orientation}: 2 mirror, 3 rotate 180,
     * 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise
     * (PIL's FLIP_LEFT_RIGHT, ROTATE_180, FLIP_TOP_BOTTOM, TRANSPOSE, ROTATE_270, TRANSVERSE, ROTATE_90).
     */
    public static RgbImage apply(RgbImage image, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return image;
        }
        int w = image.width();
        int h = image.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        byte[] src = image.rgb();
        byte[] out = new byte[src.length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    default -> { sx = w - 1 - y; sy = x; } // 8
                }
                System.arraycopy(src, (sy * w + sx) * 3, out, (y * ow + x) * 3, 3);
            }
        }
        return new RgbImage(ow, oh, out);
    }
}
