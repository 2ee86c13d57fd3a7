package dev.ditfn.api;

import dev.ditfn.api.NotReadyException;
import dev.ditfn.config.DitConfig;
import dev.ditfn.app.LoadedModel;
import dev.ditfn.app.ModelState;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.RequestContext;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

import java.util.Base64;
import java.util.List;

/** The {@code generate} function: text to image with the loaded model. */
public class GenerateFunction {
    @Inject
    ModelState state;
    @Inject
    DitConfig config;

    @Funq
    public GenerateResponse generate(GenerateRequest request) {
        LoadedModel model = readyModel();
        GenerationParams p = new RequestValidator(config, model.pipeline().sizeMultiple(),
                model.pipeline().cacheTarget()).validate(request);
        GenerationResult result = model.pipeline().generate(p, RequestContext.unbounded());
        List<GenerateResponse.Image> images = result.images().stream()
                .map(i -> new GenerateResponse.Image(Base64.getEncoder().encodeToString(i.encoded()), i.seed()))
                .toList();
        return new GenerateResponse(System.currentTimeMillis() / 1000, model.id(), images, p.format().name(),
                p.width() + "x" + p.height(), p.asMap(), result.timingsMs(), result.cache());
    }

    private LoadedModel readyModel() {
        ModelState.Status s = state.status();
        return switch (s.phase()) {
            case READY -> s.model();
            case LOADING -> throw new NotReadyException("the model is still loading (" + s.stage() + "); retry shortly");
            case FAILED -> throw new NotReadyException("the model failed to load: " + s.error());
        };
    }
}
