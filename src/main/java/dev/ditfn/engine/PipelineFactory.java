package dev.ditfn.engine;

import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.DiffusersSnapshot;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** A model family: loads the snapshots whose {@code model_index.json} names its pipeline class. */
public interface PipelineFactory {

    /** {@code _class_name} in {@code model_index.json}, e.g. {@code QwenImagePipeline}. */
    String pipelineClass();

    /** Loads every component; {@code stage} hears what is being loaded (for health). */
    DiffusionPipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage);

    /** Names of the generated snapshots this family can write (random weights, the real layout). */
    List<String> presets();

    /** Writes preset {@code name} as a diffusers snapshot into {@code dir}. */
    void writePreset(String name, Path dir, DType type, long seed);
}
