package dev.ditfn.engine.image;

/**
 * The float tensors the Qwen-Image-Edit pipeline feeds its models from an {@link RgbImage}, with
 * upstream's float32 order of operations.
 */
public final class ImageTensors {

    /** OPENAI_CLIP_MEAN (transformers {@code image_utils}). */
    public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    /** OPENAI_CLIP_STD. */
    public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    public static final int PATCH_SIZE = 14;
    public static final int TEMPORAL_PATCH_SIZE = 2;
    public static final int MERGE_SIZE = 2;
    /** Features per {@code pixel_values} row: 3 · 2 · 14 · 14. */
    public static final int PATCH_FEATURES = 3 * TEMPORAL_PATCH_SIZE * PATCH_SIZE * PATCH_SIZE;

    private ImageTensors() {
    }

    /**
     * diffusers {@code VaeImageProcessor.preprocess} after the resize: {@code pil_to_numpy}
     * ({@code float32(x) / 255.0}) then {@code normalize} ({@code 2.0 * x - 1.0}), both in float32;
     * layout [3, H, W] (channel planes, row-major). The pipeline adds the batch and frame axes
     * ([1, 3, 1, H, W]) and casts to the encoder dtype.
     */
    public static float[] vaeInput(RgbImage image) {
        int n = image.width() * image.height();
        byte[] rgb = image.rgb();
        float[] out = new float[3 * n];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                float v = (float) (rgb[i * 3 + c] & 0xff) / 255.0f;
                out[c * n + i] = 2.0f * v - 1.0f;
            }
        }
        return out;
    }

    /**
     * Qwen2-VL {@code pixel_values} (row-major [rows, {@link #PATCH_FEATURES}]) and
     * {@code image_grid_thw} of one image.
     */
    public record VisionPatches(float[] pixelValues, int gridT, int gridH, int gridW) {
        public int rows() {
            return gridT * gridH * gridW;
        }

        /** {@code image_grid_thw} row: [t, h, w]. */
        public long[] gridThw() {
            return new long[] {gridT, gridH, gridW};
        }

        /** Image tokens in the LM prompt: {@code gridH · gridW / merge²}. */
        public int mergedTokens() {
            return rows() / (MERGE_SIZE * MERGE_SIZE);
        }
    }

    /**
     * The slow {@code Qwen2VLImageProcessor} on an RGB image: {@code smart_resize} (factor 28,
     * {@code minPixels}, {@code maxPixels}), PIL bicubic resize, then {@link #visionPatches}.
     */
    public static VisionPatches qwen2VlInput(RgbImage image, long minPixels, long maxPixels) {
        EditSizing.Size s = EditSizing.smartResize(image.height(), image.width(),
                PATCH_SIZE * MERGE_SIZE, minPixels, maxPixels);
        RgbImage resized = PilResample.resize(image, s.width(), s.height(), PilResample.Filter.BICUBIC);
        return visionPatches(resized);
    }

    /**
     * {@code _preprocess} after the resize, for an image whose sides are multiples of 28:
     * rescale ({@code float32(float64(x) · (1/255))}), normalise ({@code (x − mean) / std} in
     * float32 with float32 mean/std), repeat the frame to temporal_patch_size 2, reshape to
     * [gt, 2, 3, gh/2, 2, 14, gw/2, 2, 14], permute (0, 3, 6, 4, 7, 2, 1, 5, 8) and flatten to
     * [gt·gh·gw, 1176]. Row {@code ((bh·gw/2 + bw)·2 + mh)·2 + mw} holds patch row
     * {@code bh·2 + mh}, column {@code bw·2 + mw}; its column {@code ((c·2 + t)·14 + py)·14 + px}
     * holds channel c of pixel (patch row·14 + py, patch col·14 + px) for both t.
     */
    public static VisionPatches visionPatches(RgbImage image) {
        int w = image.width();
        int h = image.height();
        int unit = PATCH_SIZE * MERGE_SIZE;
        if (w % unit != 0 || h % unit != 0) {
            throw new IllegalArgumentException("image sides must be multiples of " + unit + ": " + w + "x" + h);
        }
        int gh = h / PATCH_SIZE;
        int gw = w / PATCH_SIZE;
        float[] norm = new float[3 * w * h];
        byte[] rgb = image.rgb();
        double scale = 1.0 / 255;
        for (int i = 0; i < w * h; i++) {
            for (int c = 0; c < 3; c++) {
                float x = (float) ((double) (rgb[i * 3 + c] & 0xff) * scale);
                norm[c * w * h + i] = (x - CLIP_MEAN[c]) / CLIP_STD[c];
            }
        }
        float[] out = new float[gh * gw * PATCH_FEATURES];
        int row = 0;
        for (int bh = 0; bh < gh / MERGE_SIZE; bh++) {
            for (int bw = 0; bw < gw / MERGE_SIZE; bw++) {
                for (int mh = 0; mh < MERGE_SIZE; mh++) {
                    for (int mw = 0; mw < MERGE_SIZE; mw++) {
                        int y0 = (bh * MERGE_SIZE + mh) * PATCH_SIZE;
                        int x0 = (bw * MERGE_SIZE + mw) * PATCH_SIZE;
                        int col = row * PATCH_FEATURES;
                        for (int c = 0; c < 3; c++) {
                            for (int t = 0; t < TEMPORAL_PATCH_SIZE; t++) {
                                for (int py = 0; py < PATCH_SIZE; py++) {
                                    System.arraycopy(norm, c * w * h + (y0 + py) * w + x0, out, col, PATCH_SIZE);
                                    col += PATCH_SIZE;
                                }
                            }
                        }
                        row++;
                    }
                }
            }
        }
        return new VisionPatches(out, 1, gh, gw);
    }
}
