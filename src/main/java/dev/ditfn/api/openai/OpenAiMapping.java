package dev.ditfn.api.openai;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.ditfn.api.GenerateRequest;
import dev.ditfn.app.LoadedModel;
import dev.ditfn.engine.ImageCodec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads an OpenAI image request strictly and maps it onto {@link GenerateRequest}, so that both front doors share
 * one validation and one pipeline call. Only what OpenAI's API has and {@code generate} lacks is decided here.
 */
final class OpenAiMapping {
    /** Steps per OpenAI {@code quality} when {@code num_inference_steps} is absent; {@code auto}: the configured default. */
    static final Map<String, Integer> QUALITY_STEPS = Map.of("low", 20, "medium", 30, "standard", 30,
            "high", 50, "hd", 50);
    static final int MAX_PARTIAL_IMAGES = 3;

    private static final Set<String> FIELDS = Arrays.stream(ImageGenerationRequest.class.getRecordComponents())
            .map(c -> c.getAccessor().isAnnotationPresent(JsonProperty.class)
                    ? c.getAccessor().getAnnotation(JsonProperty.class).value() : c.getName())
            .collect(Collectors.toUnmodifiableSet());

    // Own mapper, strict: "2" is not a number and 1.5 not an integer (the shared one may be configured otherwise).
    private static final ObjectMapper JSON = strictMapper();

    private OpenAiMapping() {
    }

    /** What the OpenAI request asks beyond {@link GenerateRequest}. */
    record Mapped(GenerateRequest request, String quality, Integer jpegQuality, boolean stream, int partialImages) {
    }

    static ImageGenerationRequest parse(String body) {
        JsonNode tree;
        try {
            tree = JSON.readTree(body == null ? "" : body);
        } catch (JsonProcessingException e) {
            throw OpenAiException.invalid(null, "invalid_json", "the body is not valid JSON: "
                    + e.getOriginalMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw OpenAiException.invalid(null, "invalid_json", "the body must be a JSON object");
        }
        return parse(tree);
    }

    /** A request given as a JSON object (a JSON body, or an edit's form fields): unknown fields and types refused. */
    static ImageGenerationRequest parse(JsonNode tree) {
        List<String> unknown = new ArrayList<>();
        tree.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw OpenAiException.invalid(unknown.get(0), "unknown_parameter", "unknown parameter"
                    + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown));
        }
        try {
            return JSON.treeToValue(tree, ImageGenerationRequest.class);
        } catch (MismatchedInputException e) {
            String param = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName()
                    : "[" + r.getIndex() + "]").collect(Collectors.joining(".")).replace(".[", "[");
            throw OpenAiException.invalid(param.isEmpty() ? null : param, "invalid_type",
                    "has the wrong type: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw OpenAiException.invalid(null, "invalid_json", e.getOriginalMessage());
        }
    }

    /**
     * Checks what only OpenAI's API has; {@code served}'s id is the only {@code model} accepted, and
     * {@code guidance_scale} is its guidance scale where the family's pipeline calls it so (Z-Image).
     */
    static Mapped map(ImageGenerationRequest r, LoadedModel served) {
        String servedModel = served.id();
        if (r.model() != null && !r.model().equals(servedModel)) {
            throw new OpenAiException(404, "model", "model_not_found", "this server serves '" + servedModel
                    + "', not '" + r.model() + "' (or leave model out)");
        }
        refuseUnless("response_format", r.responseFormat(), "b64_json",
                "only b64_json: images are returned inline, this server stores no files to link to");
        refuseUnless("background", r.background(), "auto|opaque",
                "transparent backgrounds are not supported: the model generates opaque RGB images");
        Double cfgScale = r.trueCfgScale();
        if (r.guidanceScale() != null) {
            if (!"guidance_scale".equals(served.pipeline().requestDefaults().cfgName())) {
                throw OpenAiException.invalid("guidance_scale", "unsupported_parameter", "the served model has no "
                        + "distilled guidance; use true_cfg_scale with a negative_prompt for classifier-free guidance");
            }
            if (cfgScale != null) {
                throw OpenAiException.invalid("guidance_scale", "invalid_value", "give guidance_scale or"
                        + " true_cfg_scale, not both: both set the guidance scale of this model");
            }
            cfgScale = r.guidanceScale();
        }
        if ("webp".equalsIgnoreCase(r.outputFormat())) {
            throw OpenAiException.invalid("output_format", "unsupported_value",
                    "webp is not supported (no maintained pure-Java encoder); use png or jpeg");
        }
        Integer jpegQuality = r.outputCompression();
        if (jpegQuality != null) {
            if (jpegQuality < 0 || jpegQuality > 100) {
                throw OpenAiException.invalid("output_compression", "invalid_value",
                        "must be between 0 and 100, was " + jpegQuality);
            }
            if (r.outputFormat() == null || ImageCodec.Format.parse(r.outputFormat()) != ImageCodec.Format.jpeg) {
                throw OpenAiException.invalid("output_compression", "invalid_value",
                        "applies to output_format jpeg only (png is lossless)");
            }
        }
        String quality = r.quality() == null ? "auto" : r.quality();
        if (!quality.equals("auto") && !QUALITY_STEPS.containsKey(quality)) {
            throw OpenAiException.invalid("quality", "invalid_value",
                    "must be auto, low, medium, high, standard or hd, was '" + quality + "'");
        }
        Integer steps = r.numInferenceSteps() != null ? r.numInferenceSteps() : QUALITY_STEPS.get(quality);
        boolean stream = Boolean.TRUE.equals(r.stream());
        int partial = r.partialImages() == null ? 0 : r.partialImages();
        if (partial < 0 || partial > MAX_PARTIAL_IMAGES) {
            throw OpenAiException.invalid("partial_images", "invalid_value",
                    "must be between 0 and " + MAX_PARTIAL_IMAGES + ", was " + partial);
        }
        if (partial > 0 && !stream) {
            throw OpenAiException.invalid("partial_images", "invalid_value", "needs stream: true");
        }
        if (stream && r.n() != null && r.n() != 1) {
            throw OpenAiException.invalid("n", "invalid_value", "a streamed request generates one image; was "
                    + r.n());
        }
        // "auto" is the configured default size: the same as giving none to generate.
        String size = "auto".equals(r.size()) ? null : r.size();
        GenerateRequest g = new GenerateRequest(r.prompt(), r.negativePrompt(), null, null, size, steps,
                cfgScale, r.seed(), r.n(), r.outputFormat(), r.cache());
        return new Mapped(g, quality, jpegQuality, stream, partial);
    }

    /** Null (absent) or one of {@code allowed} ("a|b"); anything else is refused with {@code why}. */
    private static void refuseUnless(String param, String value, String allowed, String why) {
        if (value != null && !Arrays.asList(allowed.split("\\|")).contains(value)) {
            throw OpenAiException.invalid(param, "unsupported_value", "'" + value + "' is not supported: " + why);
        }
    }

    /**
     * Multipart form fields (all text) as the JSON object {@link #parse(JsonNode)} reads: each value typed by its
     * {@link ImageGenerationRequest} field ({@code n} an integer, {@code stream} a boolean, {@code cache} a JSON
     * object); a value that is not of that type is refused naming the field. Unknown names pass through, so that
     * {@link #parse(JsonNode)} refuses them like a JSON body's.
     */
    static JsonNode formFields(Map<String, String> fields) {
        com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            Class<?> type = FIELD_TYPES.getOrDefault(f.getKey(), String.class);
            String v = f.getValue().strip();
            try {
                if (type == Integer.class) {
                    o.put(f.getKey(), Integer.parseInt(v));
                } else if (type == Long.class) {
                    o.put(f.getKey(), Long.parseLong(v));
                } else if (type == Double.class) {
                    o.put(f.getKey(), Double.parseDouble(v));
                } else if (type == Boolean.class) {
                    if (!v.equals("true") && !v.equals("false")) {
                        throw new NumberFormatException();
                    }
                    o.put(f.getKey(), Boolean.parseBoolean(v));
                } else if (type == Map.class) {
                    o.set(f.getKey(), JSON.readTree(v));
                } else {
                    o.put(f.getKey(), f.getValue());
                }
            } catch (NumberFormatException | JsonProcessingException e) {
                throw OpenAiException.invalid(f.getKey(), "invalid_type", "must be "
                        + (type == Map.class ? "a JSON object" : "a " + type.getSimpleName().toLowerCase(
                        java.util.Locale.ROOT)) + ", was '" + f.getValue() + "'");
            }
        }
        return o;
    }

    private static final Map<String, Class<?>> FIELD_TYPES = Arrays.stream(
            ImageGenerationRequest.class.getRecordComponents()).collect(Collectors.toUnmodifiableMap(
            c -> c.getAccessor().isAnnotationPresent(JsonProperty.class)
                    ? c.getAccessor().getAnnotation(JsonProperty.class).value() : c.getName(),
            c -> c.getType()));

    private static ObjectMapper strictMapper() {
        JsonMapper m = JsonMapper.builder()
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        m.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return m;
    }
}
