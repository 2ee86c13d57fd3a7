package dev.ditfn.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The PIL goldens under {@code edit-goldens/} (written by tools/goldens/make_edit_goldens.py). */
final class ImageInputGoldens {

    private ImageInputGoldens() {
    }

    static byte[] bytes(String name) {
        try (InputStream in = ImageInputGoldens.class.getResourceAsStream("/edit-goldens/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing golden " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An 8-bit RGB PNG golden, decoded (RGB PNG decoding has no room for differences). */
    static RgbImage rgb(String name) {
        return ImageInput.defaults().decode(bytes(name));
    }

    static JsonNode cases() {
        try {
            return new ObjectMapper().readTree(bytes("cases.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Largest |a − b| per channel; both images must have the same size. */
    static int[] maxAbsDiff(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new AssertionError("size " + a.width() + "x" + a.height() + " vs " + b.width() + "x" + b.height());
        }
        int[] max = new int[3];
        byte[] x = a.rgb();
        byte[] y = b.rgb();
        for (int i = 0; i < x.length; i++) {
            int d = Math.abs((x[i] & 0xff) - (y[i] & 0xff));
            max[i % 3] = Math.max(max[i % 3], d);
        }
        return max;
    }

    /** How many samples differ at all. */
    static int differing(RgbImage a, RgbImage b) {
        int n = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            if (a.rgb()[i] != b.rgb()[i]) {
                n++;
            }
        }
        return n;
    }
}
