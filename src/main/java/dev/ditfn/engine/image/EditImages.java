package dev.ditfn.engine.image;

import dev.ditfn.engine.image.EditSizing.Size;
import dev.ditfn.engine.image.ImageTensors.VisionPatches;

/**
 * One decoded input image turned into what the Qwen-Image-Edit pipelines feed their models, in
 * upstream's order (diffusers {@code pipeline_qwenimage_edit.py} / {@code _plus.py}, then the
 * slow {@code Qwen2VLImageProcessor} with the Qwen2.5-VL config limits).
 */
public final class EditImages {

    /**
     * @param vaeImage the image the VAE encodes (Lanczos to an area-1024² size, multiples of 32)
     * @param vaeInput {@link ImageTensors#vaeInput} of {@code vaeImage}: [3, H, W] in [−1, 1]
     * @param promptImage the image handed to the VL processor (before its own bicubic resize)
     * @param vision {@code pixel_values} and {@code image_grid_thw} of {@code promptImage}
     */
    public record Prepared(RgbImage vaeImage, float[] vaeInput, RgbImage promptImage, VisionPatches vision) {
    }

    private EditImages() {
    }

    /**
     * Edit: {@code resize(image, ch, cw)} (Lanczos, {@code calculate_dimensions(1024², W/H)}) is
     * both {@code prompt_image} and, via {@code preprocess}, the VAE input.
     */
    public static Prepared edit(RgbImage input, long area) {
        checkAspect(input);
        Size s = EditSizing.calculateDimensions(area, input.width(), input.height());
        RgbImage resized = lanczos(input, s);
        return new Prepared(resized, ImageTensors.vaeInput(resized), resized, vision(resized));
    }

    /**
     * Edit Plus (one entry of the image list): the condition image (Lanczos to
     * {@code calculate_dimensions(384², W/H)}) goes to the VL processor; the VAE image is a
     * separate Lanczos resize of the original to {@code calculate_dimensions(1024², W/H)}.
     */
    public static Prepared editPlus(RgbImage input, long vaeArea, long conditionArea) {
        checkAspect(input);
        RgbImage condition = lanczos(input, EditSizing.calculateDimensions(conditionArea, input.width(),
                input.height()));
        RgbImage vae = lanczos(input, EditSizing.calculateDimensions(vaeArea, input.width(), input.height()));
        return new Prepared(vae, ImageTensors.vaeInput(vae), condition, vision(condition));
    }

    /** The limit {@code smart_resize} enforces (ValueError upstream), checked before any resize. */
    public static final double MAX_ASPECT_RATIO = 200;

    /**
     * @throws ImageInputException {@code unsupported_dimensions} when the longer side exceeds 200
     *     times the shorter (upstream's {@code smart_resize} raises ValueError for those)
     */
    public static void checkAspect(RgbImage input) {
        double ratio = (double) Math.max(input.width(), input.height()) / Math.min(input.width(), input.height());
        if (ratio > MAX_ASPECT_RATIO) {
            throw new ImageInputException(ImageInputException.Code.UNSUPPORTED_DIMENSIONS, "image of "
                    + input.width() + "x" + input.height() + " is too elongated (aspect ratio above 200)");
        }
    }

    private static RgbImage lanczos(RgbImage input, Size s) {
        if (s.width() <= 0 || s.height() <= 0) {
            throw new ImageInputException(ImageInputException.Code.UNSUPPORTED_DIMENSIONS,
                    "image of " + input.width() + "x" + input.height() + " has too extreme an aspect ratio");
        }
        return PilResample.resize(input, s.width(), s.height(), PilResample.Filter.LANCZOS);
    }

    private static VisionPatches vision(RgbImage promptImage) {
        return ImageTensors.qwen2VlInput(promptImage, EditSizing.VL_MIN_PIXELS, EditSizing.VL_MAX_PIXELS);
    }
}
