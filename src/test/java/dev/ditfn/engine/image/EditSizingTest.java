package dev.ditfn.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditfn.engine.image.EditSizing.Size;
import org.junit.jupiter.api.Test;

/** Hand values of {@link EditSizing}, checked against upstream's Python (CPython 3, float64). */
class EditSizingTest {

    @Test
    void calculateDimensionsSpecExample() {
        // 4:3 -> w = 1182.4 -> 1184, h = 886.8 -> 896 (spec B1).
        assertEquals(new Size(1184, 896), EditSizing.calculateDimensions(1024 * 1024, 4.0 / 3));
        assertEquals(new Size(1184, 896), EditSizing.calculateDimensions(EditSizing.VAE_IMAGE_AREA, 1600, 1200));
        assertEquals(new Size(896, 1184), EditSizing.calculateDimensions(EditSizing.VAE_IMAGE_AREA, 1200, 1600));
        assertEquals(new Size(1024, 1024), EditSizing.calculateDimensions(EditSizing.VAE_IMAGE_AREA, 512, 512));
        assertEquals(new Size(1440, 736), EditSizing.calculateDimensions(EditSizing.VAE_IMAGE_AREA, 2000, 1000));
        assertEquals(new Size(1376, 768), EditSizing.calculateDimensions(EditSizing.VAE_IMAGE_AREA, 1920, 1080));
    }

    @Test
    void calculateDimensionsRoundsHalfToEven() {
        // sqrt(6400)/32 = 2.5 -> 2 (half-up would give 96); sqrt(2304)/32 = 1.5 -> 2; 0.5 -> 0.
        assertEquals(new Size(64, 64), EditSizing.calculateDimensions(6400, 1.0));
        assertEquals(new Size(64, 64), EditSizing.calculateDimensions(2304, 1.0));
        assertEquals(new Size(0, 0), EditSizing.calculateDimensions(256, 1.0));
        // w = 80 -> 2.5 -> 64, h = 40 -> 1.25 -> 32
        assertEquals(new Size(64, 32), EditSizing.calculateDimensions(3200, 2.0));
        assertEquals(2, EditSizing.roundHalfEven(2.5));
        assertEquals(4, EditSizing.roundHalfEven(3.5));
        assertEquals(-2, EditSizing.roundHalfEven(-2.5));
    }

    @Test
    void editPlusSizes() {
        assertEquals(new Size(512, 288), EditSizing.calculateDimensions(EditSizing.CONDITION_IMAGE_AREA, 300, 170));
        assertEquals(new Size(1376, 768), EditSizing.calculateDimensions(EditSizing.VAE_IMAGE_AREA, 300, 170));
        assertEquals(new Size(448, 320), EditSizing.calculateDimensions(EditSizing.CONDITION_IMAGE_AREA, 1600, 1200));
    }

    @Test
    void outputSizeFloorsToSixteen() {
        assertEquals(new Size(1184, 896), EditSizing.defaultOutputSize(EditSizing.VAE_IMAGE_AREA, 16, 1600, 1200));
        // 1:3 at 64²: (32, 96); floored to 48 they stay at least one multiple
        assertEquals(new Size(48, 96), EditSizing.defaultOutputSize(4096, 48, 32, 96));
    }

    @Test
    void smartResizeHandValues() {
        // spec B4: a 1024x1024 prompt image -> 1036x1036 (grid 74x74, 1369 image tokens)
        assertEquals(new Size(1036, 1036), EditSizing.smartResize(1024, 1024));
        assertEquals(new Size(1176, 896), EditSizing.smartResize(896, 1184));
        assertEquals(new Size(504, 280), EditSizing.smartResize(288, 512));
        // above max_pixels: beta = sqrt(2e7 / 12845056), floor
        assertEquals(new Size(3192, 4004), EditSizing.smartResize(5000, 4000));
        // below min_pixels: beta = sqrt(3136 / 1200), ceil
        assertEquals(new Size(84, 56), EditSizing.smartResize(30, 40));
        // half-to-even: 70/28 = 2.5 -> 2 -> 56 (half-up: 84); 42/28 = 1.5 -> 2; 770/28 = 27.5 -> 28
        assertEquals(new Size(56, 56), EditSizing.smartResize(70, 70));
        assertEquals(new Size(56, 56), EditSizing.smartResize(42, 42));
        assertEquals(new Size(1344, 784), EditSizing.smartResize(770, 1330));
        // class defaults (max_pixels 28*28*1280 = 1003520)
        assertEquals(new Size(980, 980), EditSizing.smartResize(1024, 1024, 28,
                EditSizing.VL_CLASS_DEFAULT_MIN_PIXELS, EditSizing.VL_CLASS_DEFAULT_MAX_PIXELS));
        assertEquals(new Size(1148, 868), EditSizing.smartResize(896, 1184, 28,
                EditSizing.VL_CLASS_DEFAULT_MIN_PIXELS, EditSizing.VL_CLASS_DEFAULT_MAX_PIXELS));
    }

    @Test
    void smartResizeRefusesExtremeAspect() {
        assertThrows(IllegalArgumentException.class, () -> EditSizing.smartResize(10, 2010));
    }
}
