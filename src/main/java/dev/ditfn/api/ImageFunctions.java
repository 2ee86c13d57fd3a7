package dev.ditfn.api;

import dev.ditfn.config.DitConfig;
import dev.ditfn.app.LoadedModel;
import dev.ditfn.app.ModelState;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEventMapping;
import jakarta.inject.Inject;

import java.util.Base64;
import java.util.List;

/**
 * The functions: {@code generate} (text to image) and {@code edit} (instruction and input images to image) with the
 * loaded model, each over plain HTTP and as a CloudEvent.
 */
public class ImageFunctions {
    public static final String EVENT_TYPE = "dev.ditfn.generate";
    public static final String RESPONSE_TYPE = "dev.ditfn.generate.output";
    public static final String EVENT_SOURCE = "/dit-fn/generate";
    public static final String EDIT_EVENT_TYPE = "dev.ditfn.edit";
    public static final String EDIT_RESPONSE_TYPE = "dev.ditfn.edit.output";
    public static final String EDIT_EVENT_SOURCE = "/dit-fn/edit";

    @Inject
    ModelState state;
    @Inject
    DitConfig config;
    @Inject
    GenerationGate gate;

    /** Plain HTTP {@code POST /generate}, or a CloudEvent {@value #EVENT_TYPE} answered by {@value #RESPONSE_TYPE}. */
    @Funq
    @CloudEventMapping(trigger = EVENT_TYPE, responseType = RESPONSE_TYPE, responseSource = EVENT_SOURCE)
    public GenerateResponse generate(GenerateRequest request) {
        LoadedModel model = readyModel(state);
        GenerationParams p = new RequestValidator(config, model.pipeline()).validate(request);
        GenerationResult result = gate.generate(model, p);
        return response(model, p, result);
    }

    /**
     * Plain HTTP {@code POST /edit}, or a CloudEvent {@value #EDIT_EVENT_TYPE} answered by
     * {@value #EDIT_RESPONSE_TYPE}.
     */
    @Funq
    @CloudEventMapping(trigger = EDIT_EVENT_TYPE, responseType = EDIT_RESPONSE_TYPE, responseSource = EDIT_EVENT_SOURCE)
    public GenerateResponse edit(EditRequest request) {
        LoadedModel model = readyModel(state);
        GenerationParams p = new RequestValidator(config, model.pipeline()).validate(request);
        return response(model, p, gate.generate(model, p));
    }

    /** The answer of {@code generate} and {@code edit}: base64 images with what produced them. */
    static GenerateResponse response(LoadedModel model, GenerationParams p, GenerationResult result) {
        List<GenerateResponse.Image> images = result.images().stream()
                .map(i -> new GenerateResponse.Image(Base64.getEncoder().encodeToString(i.encoded()), i.seed()))
                .toList();
        return new GenerateResponse(System.currentTimeMillis() / 1000, model.id(), images, p.format().name(),
                p.width() + "x" + p.height(), p.asMap(), result.timingsMs(), result.cache());
    }

    /** The model to serve a request with, or 503 while it loads, after it failed, or while draining. */
    public static LoadedModel readyModel(ModelState state) {
        ModelState.Status s = state.status();
        return switch (s.phase()) {
            case READY -> s.model();
            case LOADING -> throw new NotReadyException("the model is still loading (" + s.stage() + "); retry shortly");
            case FAILED -> throw new NotReadyException("the model failed to load: " + s.error());
            case DRAINING -> throw new NotReadyException("this instance is shutting down; retry on another");
        };
    }
}
