package dev.ditfn.api.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.api.ApiException;
import dev.ditfn.api.EditImagesReader;
import dev.ditfn.api.ImageFunctions;
import dev.ditfn.api.GenerateResponse;
import dev.ditfn.api.GenerationGate;
import dev.ditfn.api.RequestValidator;
import dev.ditfn.app.LoadedModel;
import dev.ditfn.app.ModelState;
import dev.ditfn.app.ServedDefaults;
import dev.ditfn.cache.CacheSettings;
import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.RequestDefaults;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.image.RgbImage;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.vertx.ext.web.RoutingContext;
import io.smallrye.config.SmallRyeConfig;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.multipart.FormValue;
import org.jboss.resteasy.reactive.server.multipart.MultipartFormDataInput;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * OpenAI-compatible front door: {@code POST /v1/images/generations}, {@code POST /v1/images/edits} and
 * {@code GET /v1/models}. A request is mapped
 * onto {@code generate}'s request and validated and run exactly as {@code POST /generate} is; errors come in
 * OpenAI's shape {@code {"error": {"message", "type", "param", "code"}}}.
 */
@Path("/v1")
public class OpenAiImagesResource {
    private static final Logger LOG = Logger.getLogger(OpenAiImagesResource.class);
    static final String OWNER = "dit-fn";

    @Inject
    ModelState state;
    @Inject
    DitConfig config;
    @Inject
    ObjectMapper json;
    @Inject
    GenerationGate gate;
    @Inject
    CurrentVertxRequest current;

    /** OpenAI's images response plus our {@code timings_ms} and {@code cache}; {@code data[i].seed} is ours too. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ImagesResponse(long created, List<GenerateResponse.Image> data,
            @JsonProperty("output_format") String outputFormat, String size, String quality, String background,
            @JsonProperty("timings_ms") Map<String, Double> timingsMs, Map<String, Object> cache) {
    }

    // The body is read as text, not bound: OpenAI selects streaming with a body field, so one method answers JSON or
    // an event stream, and malformed JSON or unknown fields must get OpenAI-shaped errors, not the framework's.
    @POST
    @Path("/images/generations")
    public Response generations(String body) {
        LoadedModel model = ImageFunctions.readyModel(state);
        OpenAiMapping.Mapped m = OpenAiMapping.map(OpenAiMapping.parse(body), model);
        GenerationParams validated = new RequestValidator(config, model.pipeline()).validate(m.request());
        return run(model, m, m.jpegQuality() == null ? validated : validated.withJpegQuality(m.jpegQuality()));
    }

    /** The JSON answer, or the event stream when the request asked for it. */
    private Response run(LoadedModel model, OpenAiMapping.Mapped m, GenerationParams p) {
        if (!m.stream()) {
            GenerationResult result = gate.generate(model, p);
            return Response.ok(response(p, m, result), MediaType.APPLICATION_JSON).build();
        }
        RoutingContext rc = current.getCurrent();
        StreamingOutput events = out -> new ImageEventStream(out, json, p, m).run(gate, rc, model);
        return Response.ok(events, MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache").build();
    }

    /**
     * {@code POST /v1/images/edits}: OpenAI's multipart form ({@code image}, repeated or as {@code image[]}, up to the
     * model's input count; {@code prompt} and the generation fields as text), validated and run as {@code edit} is.
     * A {@code mask} (inpainting) is refused: the Edit models take an instruction, not a mask.
     */
    @POST
    @Path("/images/edits")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Response edits(MultipartFormDataInput form) {
        LoadedModel model = ImageFunctions.readyModel(state);
        RequestValidator validator = new RequestValidator(config, model.pipeline());
        validator.requireEdit();
        Map<String, String> fields = new LinkedHashMap<>();
        List<FormValue> files = new ArrayList<>();
        String imageField = null;
        for (Map.Entry<String, java.util.Collection<FormValue>> part : form.getValues().entrySet()) {
            String name = part.getKey();
            for (FormValue v : part.getValue()) {
                if (name.equals("image") || name.equals("image[]")) {
                    if (imageField != null && !imageField.equals(name)) {
                        throw OpenAiException.invalid(name, "invalid_value", "send the images as image or as"
                                + " image[], not both (their order would be lost)");
                    }
                    if (!v.isFileItem()) {
                        throw OpenAiException.invalid(name, "invalid_type", "must be a file (PNG, JPEG or WebP)");
                    }
                    imageField = name;
                    files.add(v);
                } else if (name.equals("mask")) {
                    throw OpenAiException.invalid("mask", "unsupported_parameter", "masks are not supported: the"
                            + " Edit models follow the prompt's instruction over the whole image");
                } else if (v.isFileItem()) {
                    throw OpenAiException.invalid(name, "invalid_type", "only image is a file field");
                } else if (fields.put(name, v.getValue()) != null) {
                    throw OpenAiException.invalid(name, "invalid_value", "given more than once");
                }
            }
        }
        if (files.isEmpty()) {
            throw OpenAiException.invalid("image", "invalid_value", "an edit needs an input image file");
        }
        // counted before any is decoded: a decode is the expensive part
        EditImagesReader.checkCount("image", files.size(), model.pipeline().maxInputImages());
        EditImagesReader reader = validator.imageReader();
        List<RgbImage> images = new ArrayList<>();
        for (FormValue f : files) {
            images.add(reader.decode(files.size() == 1 ? "image" : "image[" + images.size() + "]", bytes(f)));
        }
        OpenAiMapping.Mapped m = OpenAiMapping.map(OpenAiMapping.parse(OpenAiMapping.formFields(fields)), model);
        GenerationParams validated = validator.validateEdit(m.request(), images);
        return run(model, m, m.jpegQuality() == null ? validated : validated.withJpegQuality(m.jpegQuality()));
    }

    private static byte[] bytes(FormValue v) {
        try (var in = v.getFileItem().getInputStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ImagesResponse response(GenerationParams p, OpenAiMapping.Mapped m, GenerationResult result) {
        List<GenerateResponse.Image> images = result.images().stream()
                .map(i -> new GenerateResponse.Image(Base64.getEncoder().encodeToString(i.encoded()), i.seed()))
                .toList();
        return new ImagesResponse(System.currentTimeMillis() / 1000, images, p.format().name(),
                p.width() + "x" + p.height(), m.quality(), "opaque", result.timingsMs(), result.cache());
    }

    @GET
    @Path("/models")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> models() {
        return Map.of("object", "list", "data", List.of(model(ImageFunctions.readyModel(state))));
    }

    @GET
    @Path("/models/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> model(@PathParam("id") String id) {
        LoadedModel model = ImageFunctions.readyModel(state);
        if (!model.id().equals(id)) {
            throw new OpenAiException(404, "model", "model_not_found", "this server serves '" + model.id()
                    + "', not '" + id + "'");
        }
        return model(model);
    }

    /** OpenAI's model object plus {@code dit}: profile, device and default step cache (never a file path). */
    private Map<String, Object> model(LoadedModel model) {
        Map<String, Object> dit = new LinkedHashMap<>();
        dit.put("pipeline", model.pipelineClass());
        dit.put("profiles", ConfigProvider.getConfig().unwrap(SmallRyeConfig.class).getProfiles());
        dit.put("device", model.device().active().name());
        model.device().fallbackReason().ifPresent(r -> dit.put("device_requested", model.device().requested().name()));
        Map<String, Object> cache = new LinkedHashMap<>(CacheSettings.defaults(config.cache()));
        cache.values().removeIf(Objects::isNull);
        dit.put("cache", cache);
        dit.put("max_images", config.generate().maxImages());
        RequestDefaults defaults = model.pipeline().requestDefaults();
        int side = ServedDefaults.size(config.generate(), defaults);
        dit.put("default_size", side + "x" + side);
        dit.put("default_steps", ServedDefaults.steps(config.generate(), defaults));
        dit.put("default_guidance", ServedDefaults.guidance(config.generate(), defaults));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", model.id());
        m.put("object", "model");
        m.put("created", created(model));
        m.put("owned_by", OWNER);
        m.put("dit", dit);
        return m;
    }

    /** When the snapshot was written: its model_index.json's modification time. */
    private static long created(LoadedModel model) {
        try {
            return Files.getLastModifiedTime(model.dir().resolve("model_index.json")).toMillis() / 1000;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ServerExceptionMapper
    RestResponse<Map<String, Object>> apiError(ApiException e) {
        RestResponse.ResponseBuilder<Map<String, Object>> b = RestResponse.ResponseBuilder.create(
                Response.Status.fromStatusCode(e.status()), error(e.getMessage(), e.type(), e.field(), e.code()));
        if (e.retryAfterSeconds() != null) {
            b.header("Retry-After", e.retryAfterSeconds());
        }
        return b.build();
    }

    @ServerExceptionMapper
    RestResponse<Map<String, Object>> failure(RuntimeException e) {
        LOG.error("request failed", e);
        return RestResponse.status(Response.Status.INTERNAL_SERVER_ERROR, error("internal error: "
                + e.getClass().getSimpleName() + " (see the server log)", "server_error", null, null));
    }

    static Map<String, Object> error(String message, String type, String param, String code) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Map.of("error", error);
    }
}
