package dev.ditfn.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditfn.engine.image.ImageTensors.VisionPatches;
import org.junit.jupiter.api.Test;

/** {@link ImageTensors}: VAE input values and the Qwen2-VL patch layout on hand-made images. */
class ImageInputTensorTest {

    /** Channel c of pixel (x, y) of the hand-made image: distinct small numbers. */
    static int value(int x, int y, int c) {
        return (x * 3 + y * 5 + c * 70) % 256;
    }

    static RgbImage handMade(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = (byte) value(x, y, c);
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    static float normalised(int v, int c) {
        float x = (float) (v * (1.0 / 255));
        return (x - ImageTensors.CLIP_MEAN[c]) / ImageTensors.CLIP_STD[c];
    }

    @Test
    void vaeInputIsChannelPlanesInMinusOneToOne() {
        RgbImage img = new RgbImage(2, 1, new byte[] {0, (byte) 255, (byte) 128, 1, 2, 3});
        float[] t = ImageTensors.vaeInput(img);
        // [3, 1, 2]: R plane (0, 1), G plane (255, 2), B plane (128, 3)
        assertEquals(-1.0f, t[0]);
        assertEquals(2.0f * (1 / 255.0f) - 1.0f, t[1]);
        assertEquals(1.0f, t[2]);
        assertEquals(2.0f * (2 / 255.0f) - 1.0f, t[3]);
        assertEquals(2.0f * (128 / 255.0f) - 1.0f, t[4]);
        assertEquals(0.003921628f, t[4], 0f); // float32 of 2*(128/255)-1 as numpy/torch compute it
        assertEquals(2.0f * (3 / 255.0f) - 1.0f, t[5]);
    }

    @Test
    void patchLayoutOfA56x28Image() {
        // width 56, height 28: grid_h 2, grid_w 4 -> 8 rows; merge blocks (1 x 2), 4 patches each.
        RgbImage img = handMade(56, 28);
        VisionPatches p = ImageTensors.visionPatches(img);
        assertEquals(8, p.rows());
        assertArrayEquals(new long[] {1, 2, 4}, p.gridThw());
        assertEquals(2, p.mergedTokens());
        assertEquals(8 * 1176, p.pixelValues().length);
        // row -> (patch row, patch col): block 0 = cols 0-1, block 1 = cols 2-3; inside row-major.
        int[][] patchOfRow = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}};
        for (int row = 0; row < 8; row++) {
            int pr = patchOfRow[row][0];
            int pc = patchOfRow[row][1];
            for (int c = 0; c < 3; c++) {
                for (int t = 0; t < 2; t++) {
                    for (int[] yx : new int[][] {{0, 0}, {0, 13}, {13, 0}, {7, 9}, {13, 13}}) {
                        int col = ((c * 2 + t) * 14 + yx[0]) * 14 + yx[1];
                        int x = pc * 14 + yx[1];
                        int y = pr * 14 + yx[0];
                        assertEquals(normalised(value(x, y, c), c), p.pixelValues()[row * 1176 + col], 0f,
                                "row " + row + " col " + col);
                    }
                }
            }
        }
        // A few flat indices spelled out: row 1 is patch (0, 1); its first feature is R of (x 14, y 0).
        assertEquals(normalised(value(14, 0, 0), 0), p.pixelValues()[1176], 0f);
        // row 4, feature 196 = (c 0, t 1, 0, 0): patch (0, 2), pixel (28, 0) R again (frame repeated)
        assertEquals(normalised(value(28, 0, 0), 0), p.pixelValues()[4 * 1176 + 196], 0f);
        // row 6, feature 392 + 15 = (c 1, t 0, py 1, px 1): patch (1, 2), pixel (29, 15) G
        assertEquals(normalised(value(29, 15, 1), 1), p.pixelValues()[6 * 1176 + 392 + 15], 0f);
        // row 7, last feature = (c 2, t 1, 13, 13): patch (1, 3), pixel (55, 27) B
        assertEquals(normalised(value(55, 27, 2), 2), p.pixelValues()[8 * 1176 - 1], 0f);
    }

    @Test
    void patchLayoutMatchesUpstreamReshapePermute() {
        // Golden from a generic reshape(1, 2, 3, gh/2, 2, 14, gw/2, 2, 14).permute(0,3,6,4,7,2,1,5,8)
        // in tools/goldens (every 7th output position -> source index c*H*W + y*W + x).
        com.fasterxml.jackson.databind.JsonNode g = ImageInputGoldens.cases().get("patches_56x28");
        int w = g.get("width").asInt();
        int h = g.get("height").asInt();
        int stride = g.get("stride").asInt();
        VisionPatches p = ImageTensors.visionPatches(handMade(w, h));
        com.fasterxml.jackson.databind.JsonNode src = g.get("source_chw_index");
        assertEquals((p.pixelValues().length + stride - 1) / stride, src.size());
        for (int k = 0; k < src.size(); k++) {
            int s = src.get(k).asInt();
            int c = s / (w * h);
            int y = s % (w * h) / w;
            int x = s % w;
            assertEquals(normalised(value(x, y, c), c), p.pixelValues()[k * stride], 0f, "flat " + k * stride);
        }
    }

    @Test
    void normalisationMatchesFloat32Reference() {
        // transformers: float32(float64(255) * (1/255)) = 1.0; (1 - 0.48145466) / 0.26862954 in float32
        RgbImage white = new RgbImage(28, 28, filled(28 * 28 * 3, (byte) 255));
        VisionPatches p = ImageTensors.visionPatches(white);
        assertEquals((1.0f - 0.48145466f) / 0.26862954f, p.pixelValues()[0], 0f);
        assertEquals(1.9303361f, p.pixelValues()[0], 1e-6f);
    }

    @Test
    void qwen2VlInputResizesWithSmartResize() {
        VisionPatches p = ImageTensors.qwen2VlInput(handMade(40, 30), EditSizing.VL_MIN_PIXELS, EditSizing.VL_MAX_PIXELS);
        // smart_resize(30, 40) = 56 x 84 (h x w)
        assertArrayEquals(new long[] {1, 4, 6}, p.gridThw());
        assertEquals(24 * 1176, p.pixelValues().length);
    }

    @Test
    void visionPatchesNeedMultiplesOf28() {
        assertThrows(IllegalArgumentException.class, () -> ImageTensors.visionPatches(handMade(30, 28)));
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, v);
        return b;
    }
}
