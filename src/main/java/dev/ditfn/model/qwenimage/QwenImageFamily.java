package dev.ditfn.model.qwenimage;

import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.PipelineFactory;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.DiffusersSnapshot;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** The Qwen-Image family: {@code QwenImagePipeline} snapshots and the generated tiny/bench presets. */
public final class QwenImageFamily implements PipelineFactory {

    @Override
    public String pipelineClass() {
        return QwenImagePipeline.CLASS_NAME;
    }

    @Override
    public DiffusionPipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage) {
        return QwenImagePipeline.load(snapshot, runtime, options, stage);
    }

    @Override
    public List<String> presets() {
        return List.of(QwenImageSnapshot.TINY.name(), QwenImageSnapshot.BENCH.name());
    }

    @Override
    public void writePreset(String name, Path dir, DType type, long seed) {
        QwenImageSnapshot.write(dir, QwenImageSnapshot.preset(name), type, seed);
    }
}
