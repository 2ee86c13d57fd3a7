package dev.ditfn.model.zimage;

import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.PipelineFactory;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.DiffusersSnapshot;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** The Z-Image family: {@code ZImagePipeline} snapshots (Z-Image-Turbo) and the generated zimage-tiny/bench presets. */
public final class ZImageFamily implements PipelineFactory {

    @Override
    public String pipelineClass() {
        return ZImagePipeline.CLASS_NAME;
    }

    @Override
    public DiffusionPipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage) {
        return ZImagePipeline.load(snapshot, runtime, options, stage);
    }

    @Override
    public List<String> presets() {
        return List.of(ZImageSnapshot.TINY.name(), ZImageSnapshot.BENCH.name());
    }

    @Override
    public void writePreset(String name, Path dir, DType type, long seed) {
        ZImageSnapshot.write(dir, ZImageSnapshot.preset(name), type, seed);
    }
}
