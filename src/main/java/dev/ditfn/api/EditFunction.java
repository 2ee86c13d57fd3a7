package dev.ditfn.api;

import dev.ditfn.app.LoadedModel;
import dev.ditfn.app.ModelState;
import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEventMapping;
import jakarta.inject.Inject;

/** The {@code edit} function: an instruction and one or more input images to an image, with an Edit model. */
public class EditFunction {
    public static final String EVENT_TYPE = "dev.ditfn.edit";
    public static final String RESPONSE_TYPE = "dev.ditfn.edit.output";
    public static final String EVENT_SOURCE = "/dit-fn/edit";

    @Inject
    ModelState state;
    @Inject
    DitConfig config;
    @Inject
    GenerationGate gate;

    /** Plain HTTP {@code POST /edit}, or a CloudEvent {@value #EVENT_TYPE} answered by {@value #RESPONSE_TYPE}. */
    @Funq
    @CloudEventMapping(trigger = EVENT_TYPE, responseType = RESPONSE_TYPE, responseSource = EVENT_SOURCE)
    public GenerateResponse edit(EditRequest request) {
        LoadedModel model = GenerateFunction.readyModel(state);
        GenerationParams p = new RequestValidator(config, model.pipeline()).validate(request);
        GenerationResult result = gate.generate(model, p);
        return GenerateFunction.response(model, p, result);
    }
}
