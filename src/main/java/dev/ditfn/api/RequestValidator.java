package dev.ditfn.api;

import dev.ditfn.app.ServedDefaults;
import dev.ditfn.cache.CacheSettings;
import dev.ditfn.cache.CacheTarget;
import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.RequestDefaults;
import dev.ditfn.engine.image.EditSizing;
import dev.ditfn.engine.image.RgbImage;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a {@link GenerateRequest} against the configured limits and fills in defaults. Public because every front
 * door (Funqy {@code generate}, the OpenAI-compatible endpoints) maps its request onto this one validation.
 */
public final class RequestValidator {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");

    private final DitConfig.Generate limits;
    private final DitConfig.Cache cacheDefaults;
    private final int sizeMultiple;
    private final CacheTarget cacheTarget;
    private final RequestDefaults family;
    private final DiffusionPipeline pipeline;
    private final DitConfig.Edit edit;

    /** Checks requests for {@code pipeline}: its size multiple, cache target and request defaults. */
    public RequestValidator(DitConfig config, DiffusionPipeline pipeline) {
        this.limits = config.generate();
        this.cacheDefaults = config.cache();
        this.sizeMultiple = pipeline.sizeMultiple();
        this.cacheTarget = pipeline.cacheTarget();
        this.family = pipeline.requestDefaults();
        this.pipeline = pipeline;
        this.edit = config.edit();
    }

    /**
     * An edit request: the input images decoded and checked, the size defaulting to the last image's aspect ratio at
     * {@code dit.edit.default-area} (floored to the size multiple), then the generate fields as {@link #validate}.
     */
    public GenerationParams validate(EditRequest r) {
        if (r == null) {
            throw new InvalidRequestException(null, "the request body must be a JSON object with a prompt and an image");
        }
        requireEdit();
        return validateEdit(r.generateFields(), imageReader().read(r, pipeline.maxInputImages()));
    }

    /** {@code fields} of an edit of {@code images} (already decoded); the size defaults from the last image. */
    public GenerationParams validateEdit(GenerateRequest fields, List<RgbImage> images) {
        requireEdit();
        EditImagesReader.checkCount("image", images.size(), pipeline.maxInputImages());
        GenerateRequest r = fields;
        if (r.size() == null && (r.width() == null || r.height() == null)) {
            // upstream: height = height or calculated_height, width likewise
            EditSizing.Size s = defaultEditSize(images.get(images.size() - 1));
            r = new GenerateRequest(r.prompt(), r.negativePrompt(), r.width() != null ? r.width() : s.width(),
                    r.height() != null ? r.height() : s.height(), null, r.numInferenceSteps(), r.trueCfgScale(),
                    r.seed(), r.n(), r.outputFormat(), r.cache());
        }
        return checked(r).withInputImages(images);
    }

    /**
     * The last input's ratio at {@code dit.edit.default-area}, floored to the size multiple; an input so elongated
     * that a side would pass {@code dit.generate.max-size} gets a smaller area, keeping the ratio.
     */
    private EditSizing.Size defaultEditSize(RgbImage last) {
        long area = edit.defaultArea();
        EditSizing.Size s = EditSizing.defaultOutputSize(area, sizeMultiple, last.width(), last.height());
        for (int i = 0; i < 8 && Math.max(s.width(), s.height()) > limits.maxSize(); i++) {
            double shrink = (double) limits.maxSize() / Math.max(s.width(), s.height());
            area = (long) (area * shrink * shrink);
            s = EditSizing.defaultOutputSize(area, sizeMultiple, last.width(), last.height());
        }
        return s;
    }

    /** The decoder of input images, with the configured pixel limit. */
    public EditImagesReader imageReader() {
        return new EditImagesReader(edit.maxInputPixels());
    }

    /** Refuses an edit on a model that does not edit (before anything is decoded). */
    public void requireEdit() {
        requireTask(DiffusionPipeline.Task.EDIT, "edit", "generate");
    }

    private void requireTask(DiffusionPipeline.Task task, String function, String other) {
        if (!pipeline.tasks().contains(task)) {
            throw new InvalidRequestException(null, "unsupported_task", "the loaded model does not serve " + function
                    + "; it serves " + other + " (" + pipeline.tasks() + ")");
        }
    }

    public GenerationParams validate(GenerateRequest r) {
        if (r == null) {
            throw new InvalidRequestException(null, "the request body must be a JSON object with at least a prompt");
        }
        requireTask(DiffusionPipeline.Task.TEXT_TO_IMAGE, "generate", "edit");
        return checked(r);
    }

    private GenerationParams checked(GenerateRequest r) {
        String prompt = r.prompt();
        if (prompt == null || prompt.isBlank()) {
            throw new InvalidRequestException("prompt", "must be a non-empty string");
        }
        checkLength("prompt", prompt);
        if (r.negativePrompt() != null) {
            checkLength("negative_prompt", r.negativePrompt());
        }
        int[] wh = size(r);
        int steps = r.numInferenceSteps() != null ? r.numInferenceSteps()
                : ServedDefaults.steps(limits, family);
        if (steps < 1 || steps > limits.maxSteps()) {
            throw new InvalidRequestException("num_inference_steps", "must be between 1 and " + limits.maxSteps()
                    + ", was " + steps);
        }
        double scale = r.trueCfgScale() != null ? r.trueCfgScale()
                : ServedDefaults.guidance(limits, family);
        if (!(scale >= 0 && scale <= 100)) {
            throw new InvalidRequestException("true_cfg_scale", "must be between 0 and 100, was " + scale);
        }
        int n = r.n() == null ? 1 : r.n();
        if (n < 1 || n > limits.maxImages()) {
            throw new InvalidRequestException("n", "must be between 1 and " + limits.maxImages() + ", was " + n);
        }
        ImageCodec.Format format;
        try {
            format = r.outputFormat() == null ? ImageCodec.Format.png : ImageCodec.Format.parse(r.outputFormat());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("output_format", "must be png or jpeg, was '" + r.outputFormat() + "'");
        }
        long seed = r.seed() != null ? r.seed() : ThreadLocalRandom.current().nextLong(1L << 53);
        if (seed < 0) {
            throw new InvalidRequestException("seed", "must be non-negative, was " + seed);
        }
        if (seed > Long.MAX_VALUE - (n - 1)) {
            throw new InvalidRequestException("seed", "image i uses seed + i, so seed + n - 1 must stay within "
                    + Long.MAX_VALUE + "; was seed " + seed + " with n " + n);
        }
        Map<String, Object> overrides = r.cache() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(r.cache());
        Object trace = overrides.remove("trace");
        if (trace != null && !(trace instanceof Boolean)) {
            throw new InvalidRequestException("cache.trace", "invalid_type", "must be true or false, was " + trace);
        }
        Map<String, Object> base = CacheSettings.defaults(cacheDefaults);
        CacheSettings cache;
        try {
            cache = CacheSettings.resolve(base, overrides, cacheTarget, steps);
        } catch (CacheSettings.InvalidSettingException e) {
            throw new InvalidRequestException("cache." + e.key(),
                    base.containsKey(e.key()) ? "invalid_value" : "unknown_parameter", e.getMessage());
        }
        Map<String, Object> merged = new LinkedHashMap<>(base);
        merged.putAll(overrides);
        String negative = r.negativePrompt() != null ? r.negativePrompt() : family.negativePrompt();
        return new GenerationParams(prompt, negative, wh[0], wh[1], steps, (float) scale,
                family.cfg((float) scale, negative), seed, n, format, cache, cache.effective(merged),
                Boolean.TRUE.equals(trace));
    }

    private void checkLength(String field, String text) {
        if (text.length() > limits.maxPromptChars()) {
            throw new InvalidRequestException(field, "is " + text.length() + " characters long; at most "
                    + limits.maxPromptChars() + " are allowed");
        }
    }

    private int[] size(GenerateRequest r) {
        int w;
        int h;
        String field;
        if (r.size() != null) {
            if (r.width() != null || r.height() != null) {
                throw new InvalidRequestException("size", "give either size or width/height, not both");
            }
            Matcher m = SIZE.matcher(r.size().trim());
            if (!m.matches()) {
                throw new InvalidRequestException("size", "must look like 1024x768, was '" + r.size() + "'");
            }
            w = Integer.parseInt(m.group(1));
            h = Integer.parseInt(m.group(2));
            field = "size";
        } else {
            int side = ServedDefaults.size(limits, family);
            w = r.width() == null ? side : r.width();
            h = r.height() == null ? side : r.height();
            field = null;
        }
        checkSide(field == null ? "width" : field, w);
        checkSide(field == null ? "height" : field, h);
        return new int[] {w, h};
    }

    private void checkSide(String field, int v) {
        if (v < limits.minSize() || v > limits.maxSize()) {
            throw new InvalidRequestException(field, "must be between " + limits.minSize() + " and "
                    + limits.maxSize() + " pixels, was " + v);
        }
        if (v % sizeMultiple != 0) {
            throw new InvalidRequestException(field, "must be a multiple of " + sizeMultiple + ", was " + v);
        }
    }
}
