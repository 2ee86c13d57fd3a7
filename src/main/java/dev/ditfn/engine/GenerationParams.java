package dev.ditfn.engine;

import dev.ditfn.cache.CacheSettings;
import dev.ditfn.engine.image.RgbImage;

import java.util.List;
import java.util.Map;

/**
 * One validated request, text to image or (with {@code inputImages}) an edit: {@code images} images of {@code width × height}, the i-th from seed
 * {@code seed + i}. {@code negativePrompt} is null when none was given and the family has no default. {@code cfg}
 * says whether guidance runs, as the family decided it ({@link RequestDefaults#cfg}). {@code jpegQuality} (0-100)
 * applies to JPEG output only.
 */
public record GenerationParams(String prompt, String negativePrompt, int width, int height, int steps,
        float trueCfgScale, boolean cfg, long seed, int images, ImageCodec.Format format, CacheSettings cache,
        Map<String, Object> cacheConfig, boolean trace, int jpegQuality, List<RgbImage> inputImages) {

    public GenerationParams {
        inputImages = List.copyOf(inputImages);
    }

    /** A text-to-image request (no input image). */
    public GenerationParams(String prompt, String negativePrompt, int width, int height, int steps,
            float trueCfgScale, boolean cfg, long seed, int images, ImageCodec.Format format, CacheSettings cache,
            Map<String, Object> cacheConfig, boolean trace, int jpegQuality) {
        this(prompt, negativePrompt, width, height, steps, trueCfgScale, cfg, seed, images, format, cache,
                cacheConfig, trace, jpegQuality, List.of());
    }

    /** With the default JPEG quality. */
    public GenerationParams(String prompt, String negativePrompt, int width, int height, int steps,
            float trueCfgScale, boolean cfg, long seed, int images, ImageCodec.Format format, CacheSettings cache,
            Map<String, Object> cacheConfig, boolean trace) {
        this(prompt, negativePrompt, width, height, steps, trueCfgScale, cfg, seed, images, format, cache,
                cacheConfig, trace, ImageCodec.DEFAULT_JPEG_QUALITY);
    }

    /**
     * Parameters without a step cache (the {@code none} backend), e.g. for a warm-up or a measurement: guidance runs
     * exactly when {@code negativePrompt} is given.
     */
    public static GenerationParams uncached(String prompt, String negativePrompt, int width, int height, int steps,
            float trueCfgScale, long seed, int images, ImageCodec.Format format) {
        return new GenerationParams(prompt, negativePrompt, width, height, steps, trueCfgScale,
                negativePrompt != null, seed, images, format, CacheSettings.none(),
                Map.of("backend", CacheSettings.NONE), false);
    }

    /** These parameters under other cache settings (warm-ups run each cache path once). */
    public GenerationParams withCache(CacheSettings settings) {
        return new GenerationParams(prompt, negativePrompt, width, height, steps, trueCfgScale, cfg, seed, images,
                format, settings, Map.of("backend", settings.backend()), trace, jpegQuality, inputImages);
    }

    /** These parameters with another JPEG quality (OpenAI's {@code output_compression}). */
    public GenerationParams withJpegQuality(int quality) {
        return new GenerationParams(prompt, negativePrompt, width, height, steps, trueCfgScale, cfg, seed, images,
                format, cache, cacheConfig, trace, quality, inputImages);
    }

    /** These parameters editing {@code images} (Qwen-Image-Edit's input images, last one sets the default size). */
    public GenerationParams withInputImages(List<RgbImage> images) {
        return new GenerationParams(prompt, negativePrompt, width, height, steps, trueCfgScale, cfg, seed,
                this.images, format, cache, cacheConfig, trace, jpegQuality, images);
    }

    /** What reproduces image {@code index} alone: these parameters with its own seed and one image. */
    public GenerationParams single(int index) {
        return new GenerationParams(prompt, negativePrompt, width, height, steps, trueCfgScale, cfg, seed + index, 1,
                format, cache, cacheConfig, trace, jpegQuality, inputImages);
    }

    /** The effective parameters, as reported in responses and written into each image's metadata. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("negative_prompt", negativePrompt);
        m.put("width", width);
        m.put("height", height);
        m.put("num_inference_steps", steps);
        m.put("true_cfg_scale", trueCfgScale);
        m.put("cfg", cfg);
        m.put("seed", seed);
        m.put("n", images);
        m.put("cache", cacheConfig);
        if (!inputImages.isEmpty()) {
            m.put("input_images", inputImages.stream().map(i -> i.width() + "x" + i.height()).toList());
        }
        return m;
    }
}
