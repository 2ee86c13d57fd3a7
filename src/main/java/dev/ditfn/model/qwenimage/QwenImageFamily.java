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

/**
 * One Qwen-Image pipeline class ({@link QwenImageVariant}): {@code QwenImagePipeline}, {@code QwenImageEditPipeline}
 * or {@code QwenImageEditPlusPipeline} snapshots, and that variant's generated presets.
 */
public final class QwenImageFamily implements PipelineFactory {
    private final QwenImageVariant variant;

    public QwenImageFamily(QwenImageVariant variant) {
        this.variant = variant;
    }

    @Override
    public String pipelineClass() {
        return variant.pipelineClass();
    }

    @Override
    public DiffusionPipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage) {
        return QwenImagePipeline.load(snapshot, runtime, options, variant, stage);
    }

    @Override
    public List<String> presets() {
        return QwenImageSnapshot.presets(variant).stream().map(QwenImageSnapshot.Preset::name).toList();
    }

    @Override
    public void writePreset(String name, Path dir, DType type, long seed) {
        QwenImageSnapshot.write(dir, QwenImageSnapshot.preset(name), type, seed);
    }
}
