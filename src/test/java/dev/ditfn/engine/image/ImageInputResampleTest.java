package dev.ditfn.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link PilResample} against Pillow 9.4's {@code Image.resize} (goldens). */
class ImageInputResampleTest {

    static Stream<JsonNode> resizeCases() {
        List<JsonNode> list = new ArrayList<>();
        ImageInputGoldens.cases().get("resize").forEach(list::add);
        return list.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resizeCases")
    void matchesPilExactly(JsonNode c) {
        RgbImage in = ImageInputGoldens.rgb(c.get("input").asText());
        PilResample.Filter filter = PilResample.Filter.valueOf(c.get("filter").asText().toUpperCase(Locale.ROOT));
        RgbImage expected = ImageInputGoldens.rgb(c.get("expected").asText());
        RgbImage got = PilResample.resize(in, c.get("width").asInt(), c.get("height").asInt(), filter);
        int[] diff = ImageInputGoldens.maxAbsDiff(got, expected);
        System.out.printf("resize %s -> %s: max |diff| per channel %s, %d samples differ%n", c.get("input").asText(),
                c.get("expected").asText(), java.util.Arrays.toString(diff), ImageInputGoldens.differing(got, expected));
        assertArrayEquals(new int[] {0, 0, 0}, diff, "PIL-identical output");
    }

    @Test
    void sameSizeIsACopy() {
        RgbImage in = ImageInputGoldens.rgb("in_37x23.png");
        RgbImage out = PilResample.resize(in, 37, 23, PilResample.Filter.LANCZOS);
        assertArrayEquals(in.rgb(), out.rgb());
    }

    @Test
    void kernelsAreNormalisedInFixedPoint() {
        // Each output pixel's fixed-point weights sum to about 1 << 22 (rounding per weight).
        for (PilResample.Filter f : PilResample.Filter.values()) {
            PilResample.Kernels k = PilResample.Kernels.of(300, 97, f);
            for (int x = 0; x < 97; x++) {
                long sum = 0;
                for (int i = 0; i < k.bounds[x * 2 + 1]; i++) {
                    sum += k.coeffs[x * k.size + i];
                }
                assertEquals(1 << PilResample.PRECISION_BITS, sum, k.size, f + " x=" + x);
            }
        }
    }

    @Test
    void constantImageStaysConstant() {
        byte[] rgb = new byte[40 * 30 * 3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) 200;
            rgb[i + 1] = 17;
            rgb[i + 2] = (byte) 255;
        }
        for (PilResample.Filter f : PilResample.Filter.values()) {
            RgbImage out = PilResample.resize(new RgbImage(40, 30, rgb), 67, 13, f);
            for (int i = 0; i < out.rgb().length; i += 3) {
                assertEquals(200, out.rgb()[i] & 0xff);
                assertEquals(17, out.rgb()[i + 1] & 0xff);
                assertEquals(255, out.rgb()[i + 2] & 0xff);
            }
        }
    }
}
