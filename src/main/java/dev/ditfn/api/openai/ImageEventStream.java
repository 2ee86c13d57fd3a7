package dev.ditfn.api.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.api.ApiException;
import dev.ditfn.api.GenerationGate;
import dev.ditfn.app.LoadedModel;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.RequestContext;
import io.vertx.ext.web.RoutingContext;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One streamed generation as OpenAI's Server-Sent Events: {@code image_generation.partial_image} for each preview,
 * then {@code image_generation.completed} (or {@code error}), plus our {@code dit.progress} after every step.
 * Events are written and flushed from the generating thread as they happen; a client that went away makes the next
 * write fail, which ends the generation.
 */
final class ImageEventStream implements RequestContext.PreviewListener {
    static final String PARTIAL = "image_generation.partial_image";
    static final String COMPLETED = "image_generation.completed";
    /** The edit endpoint's event names (OpenAI's {@code image_edit.*}). */
    static final String EDIT_PARTIAL = "image_edit.partial_image";
    static final String EDIT_COMPLETED = "image_edit.completed";
    static final String PROGRESS = "dit.progress";
    private static final Logger LOG = Logger.getLogger(ImageEventStream.class);

    private final OutputStream out;
    private final ObjectMapper json;
    private final GenerationParams params;
    private final OpenAiMapping.Mapped request;
    private final Set<Integer> previewSteps;
    private final String partial;
    private final String completed;
    private int partialIndex;

    ImageEventStream(OutputStream out, ObjectMapper json, GenerationParams params, OpenAiMapping.Mapped request) {
        this.out = out;
        this.json = json;
        this.params = params;
        this.request = request;
        this.previewSteps = previewSteps(params.steps(), request.partialImages());
        boolean edit = !params.inputImages().isEmpty();
        this.partial = edit ? EDIT_PARTIAL : PARTIAL;
        this.completed = edit ? EDIT_COMPLETED : COMPLETED;
    }

    /**
     * The steps after which previews are decoded: {@code count} evenly spaced before the last step (which is the
     * completed image). Fewer when there are too few steps to space them, as OpenAI allows.
     */
    static Set<Integer> previewSteps(int steps, int count) {
        Set<Integer> at = new TreeSet<>();
        for (int j = 1; j <= count; j++) {
            int step = Math.max(1, steps * j / (count + 1));
            if (step < steps) {
                at.add(step);
            }
        }
        return at;
    }

    /** Generates through {@code gate} (admission, deadline, disconnect of {@code rc}) and streams the events. */
    void run(GenerationGate gate, RoutingContext rc, LoadedModel model) {
        try {
            GenerationResult result = gate.generate(rc, model, params, this::progress,
                    previewSteps.isEmpty() ? null : this);
            GenerationResult.Image image = result.images().get(0);
            Map<String, Object> done = event(completed, image.encoded());
            done.put("seed", image.seed());
            done.put("timings_ms", result.timingsMs());
            done.put("cache", result.cache());
            send(completed, done);
        } catch (ApiException e) {
            send("error", Map.of("type", "error", "error", OpenAiImagesResource.error(e.getMessage(), e.type(),
                    e.field(), e.code()).get("error")));
        } catch (UncheckedIOException e) {
            LOG.infof("stream closed by the client: %s", e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("streamed request failed", e);
            send("error", Map.of("type", "error", "error", OpenAiImagesResource.error("internal error: "
                    + e.getClass().getSimpleName() + " (see the server log)", "server_error", null, null)
                    .get("error")));
        }
    }

    @Override
    public boolean wants(int stepsDone, int steps) {
        return previewSteps.contains(stepsDone);
    }

    @Override
    public void preview(int stepsDone, byte[] encoded) {
        Map<String, Object> e = event(partial, encoded);
        e.put("partial_image_index", partialIndex++);
        e.put("step", stepsDone);
        send(partial, e);
    }

    private void progress(int stepsDone, Map<String, String> decisions) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", PROGRESS);
        e.put("step", stepsDone);
        e.put("total", params.steps());
        e.put("branches", decisions);
        send(PROGRESS, e);
    }

    /** The fields OpenAI's partial and completed events share. */
    private Map<String, Object> event(String type, byte[] encoded) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", type);
        e.put("b64_json", Base64.getEncoder().encodeToString(encoded));
        e.put("created_at", System.currentTimeMillis() / 1000);
        e.put("size", params.width() + "x" + params.height());
        e.put("quality", request.quality());
        e.put("background", "opaque");
        e.put("output_format", params.format().name());
        return e;
    }

    private void send(String name, Object data) {
        try {
            out.write(("event: " + name + "\ndata: " + json.writeValueAsString(data) + "\n\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
