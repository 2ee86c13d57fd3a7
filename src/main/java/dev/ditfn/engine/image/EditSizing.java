package dev.ditfn.engine.image;

/**
 * Image sizes of the Qwen-Image-Edit pipelines, computed as upstream does in float64 with Python's
 * round-half-to-even ({@link Math#rint}).
 *
 * <ul>
 *   <li>diffusers {@code calculate_dimensions(target_area, ratio)} ({@code pipeline_qwenimage_edit.py},
 *       {@code pipeline_qwenimage_edit_plus.py}): {@code w = sqrt(area·ratio)}, {@code h = w/ratio},
 *       both {@code round(·/32)·32}.</li>
 *   <li>transformers {@code smart_resize} ({@code image_processing_qwen2_vl.py}).</li>
 * </ul>
 */
public final class EditSizing {

    /** A width and height in pixels. */
    public record Size(int width, int height) {
        public long pixels() {
            return (long) width * height;
        }
    }

    /** Edit's VAE/prompt-image area and Edit Plus' {@code VAE_IMAGE_SIZE}: 1024². */
    public static final long VAE_IMAGE_AREA = 1024L * 1024;
    /** Edit Plus' {@code CONDITION_IMAGE_SIZE}: 384². */
    public static final long CONDITION_IMAGE_AREA = 384L * 384;
    /** {@code vae_scale_factor · 2}: the output size is floored to a multiple of this. */

    /** Qwen2-VL patch size 14 × merge size 2. */
    public static final int VL_FACTOR = 28;
    /** {@code min_pixels} of the Qwen2.5-VL {@code preprocessor_config.json} (56·56). */
    public static final long VL_MIN_PIXELS = 3136;
    /** {@code max_pixels} of the Qwen2.5-VL {@code preprocessor_config.json} (28·28·16384). */
    public static final long VL_MAX_PIXELS = 12845056;
    /** The class defaults of {@code Qwen2VLImageProcessor} when no config overrides them. */
    public static final long VL_CLASS_DEFAULT_MIN_PIXELS = 56 * 56;
    public static final long VL_CLASS_DEFAULT_MAX_PIXELS = 28 * 28 * 1280;

    private EditSizing() {
    }

    /** diffusers' {@code calculate_dimensions(target_area, ratio)}; {@code ratio = width / height}. */
    public static Size calculateDimensions(double targetArea, double ratio) {
        if (!(targetArea > 0) || !(ratio > 0) || Double.isInfinite(ratio)) {
            throw new IllegalArgumentException("area and ratio must be positive: " + targetArea + ", " + ratio);
        }
        double width = Math.sqrt(targetArea * ratio);
        double height = width / ratio;
        return new Size(roundHalfEven(width / 32) * 32, roundHalfEven(height / 32) * 32);
    }

    /** {@code calculate_dimensions(area, inW / inH)} with Python's true division of the two ints. */
    public static Size calculateDimensions(long targetArea, int inWidth, int inHeight) {
        return calculateDimensions((double) targetArea, (double) inWidth / inHeight);
    }

    /**
     * An edit's default output size: the (last) input image's ratio at {@code area}, floored to multiples of
     * {@code multiple} (the pipeline's {@code vae_scale_factor · 2}), at least one multiple per side.
     */
    public static Size defaultOutputSize(long area, int multiple, int inWidth, int inHeight) {
        Size calc = calculateDimensions(area, inWidth, inHeight);
        return new Size(Math.max(multiple, calc.width() / multiple * multiple),
                Math.max(multiple, calc.height() / multiple * multiple));
    }

    /**
     * transformers' {@code smart_resize(height, width, factor, min_pixels, max_pixels)}; returns
     * (width, height) as a {@link Size} although upstream returns {@code (h_bar, w_bar)}.
     *
     * @throws IllegalArgumentException when the aspect ratio exceeds 200 (upstream's ValueError)
     */
    public static Size smartResize(int height, int width, int factor, long minPixels, long maxPixels) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("size must be positive: " + width + "x" + height);
        }
        if ((double) Math.max(height, width) / Math.min(height, width) > 200) {
            throw new IllegalArgumentException("absolute aspect ratio must be smaller than 200, got "
                    + (double) Math.max(height, width) / Math.min(height, width));
        }
        long hBar = roundHalfEven((double) height / factor) * (long) factor;
        long wBar = roundHalfEven((double) width / factor) * (long) factor;
        if (hBar * wBar > maxPixels) {
            double beta = Math.sqrt(((double) height * width) / maxPixels);
            hBar = Math.max(factor, (long) Math.floor(height / beta / factor) * factor);
            wBar = Math.max(factor, (long) Math.floor(width / beta / factor) * factor);
        } else if (hBar * wBar < minPixels) {
            double beta = Math.sqrt(minPixels / ((double) height * width));
            hBar = (long) Math.ceil(height * beta / factor) * factor;
            wBar = (long) Math.ceil(width * beta / factor) * factor;
        }
        return new Size(Math.toIntExact(wBar), Math.toIntExact(hBar));
    }

    /** {@link #smartResize(int, int, int, long, long)} with factor 28 and the Qwen2.5-VL config limits. */
    public static Size smartResize(int height, int width) {
        return smartResize(height, width, VL_FACTOR, VL_MIN_PIXELS, VL_MAX_PIXELS);
    }

    /** Python 3 {@code round(x)} on a float: nearest integer, ties to even. */
    static int roundHalfEven(double x) {
        return Math.toIntExact((long) Math.rint(x));
    }
}
