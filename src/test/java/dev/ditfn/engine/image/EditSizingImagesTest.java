package dev.ditfn.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link EditImages}: the sizes and tensors of both pipelines for one small input. */
class EditSizingImagesTest {

    @Test
    void editUsesOneLanczosImageForVaeAndPrompt() {
        RgbImage in = ImageInputGoldens.rgb("rgb.png"); // 61 x 37
        EditImages.Prepared p = EditImages.edit(in, EditSizing.VAE_IMAGE_AREA);
        // calculate_dimensions(1024², 61/37) = (1312, 800); smart_resize(800, 1312) = 812 x 1316
        assertEquals(1312, p.vaeImage().width());
        assertEquals(800, p.vaeImage().height());
        assertSame(p.vaeImage(), p.promptImage());
        assertEquals(3 * 1312 * 800, p.vaeInput().length);
        assertArrayEquals(new long[] {1, 58, 94}, p.vision().gridThw());
        assertArrayEquals(PilResample.resize(in, 1312, 800, PilResample.Filter.LANCZOS).rgb(), p.vaeImage().rgb());
    }

    @Test
    void editPlusSplitsConditionAndVaeImages() {
        RgbImage in = ImageInputGoldens.rgb("rgb.png");
        EditImages.Prepared p = EditImages.editPlus(in, EditSizing.VAE_IMAGE_AREA, EditSizing.CONDITION_IMAGE_AREA);
        // condition: calculate_dimensions(384², 61/37) = (480, 288); smart_resize(288, 480) = 280 x 476
        assertEquals(480, p.promptImage().width());
        assertEquals(288, p.promptImage().height());
        assertArrayEquals(new long[] {1, 20, 34}, p.vision().gridThw());
        assertEquals(1312, p.vaeImage().width());
        assertEquals(800, p.vaeImage().height());
    }

    @Test
    void elongatedImagesAreRefused() {
        RgbImage thin = new RgbImage(402, 2, new byte[402 * 2 * 3]);
        ImageInputException e = assertThrows(ImageInputException.class, () -> EditImages.edit(thin, EditSizing.VAE_IMAGE_AREA));
        assertEquals("unsupported_dimensions", e.code().wire());
    }
}
