package dev.ditfn.app;

import dev.ditfn.engine.PipelineFactory;
import dev.ditfn.model.qwenimage.QwenImageFamily;
import dev.ditfn.model.qwenimage.QwenImageVariant;
import dev.ditfn.model.zimage.ZImageFamily;
import dev.ditfn.weights.WeightsException;

import java.nio.file.Path;
import java.util.List;

/**
 * The model families this build serves, chosen by {@code model_index.json}'s {@code _class_name}. The only place
 * that names a family: adding one is one line here plus its own package.
 */
public final class ModelFamilies {
    private static final List<PipelineFactory> FAMILIES = List.of(
            new QwenImageFamily(QwenImageVariant.TEXT_TO_IMAGE), new QwenImageFamily(QwenImageVariant.EDIT),
            new QwenImageFamily(QwenImageVariant.EDIT_PLUS), new ZImageFamily());

    private ModelFamilies() {
    }

    /** The family that loads pipeline class {@code pipelineClass}, or a clear refusal naming what is served. */
    public static PipelineFactory forPipeline(String pipelineClass, Path modelIndex) {
        return FAMILIES.stream().filter(f -> f.pipelineClass().equals(pipelineClass)).findFirst()
                .orElseThrow(() -> new WeightsException(modelIndex + " names pipeline " + pipelineClass
                        + ", which this version does not serve (supported: "
                        + FAMILIES.stream().map(PipelineFactory::pipelineClass).toList() + ")"));
    }

    /** The family that generates preset {@code name}. */
    public static PipelineFactory forPreset(String name) {
        return FAMILIES.stream().filter(f -> f.presets().contains(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown preset '" + name + "' (known: "
                        + presetNames() + ")"));
    }

    public static List<String> presetNames() {
        return FAMILIES.stream().flatMap(f -> f.presets().stream()).toList();
    }
}
