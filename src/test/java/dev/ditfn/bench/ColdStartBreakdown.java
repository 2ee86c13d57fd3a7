package dev.ditfn.bench;

import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.model.qwenimage.QwenImageTransformer;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig;
import dev.ditfn.model.qwenimage.QwenImageVaeDecoder;
import dev.ditfn.model.text.QwenTextEncoder;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The model-load part of a cold start split finer than the server's load stages, in a fresh JVM (not a test): ORT
 * initialisation (native libraries + environment), then per component, in the server's order, weight mapping
 * (safetensors headers + mmap), graph construction, graph serialisation, session creation (ORT parses the graph and
 * takes the mapped initializers; prepacking included), and finally the server's warm-up run on a pipeline loaded
 * the same way. Each run appends one JSON line to {@code target/measurements/coldstart-breakdown.jsonl}; every
 * figure after the first in a JVM is warm, so {@code tools/coldstart.py} runs this once per fresh JVM:
 * {@code ./mvnw -B -q test -Dgroups=measure -Dsurefire.excludedGroups=none -Dtest=ColdStartBreakdown
 * -Dcoldstart.model=DIR} ({@code -Dcoldstart.model} unset: the embedded tiny preset).
 */
@Tag("measure")
class ColdStartBreakdown {
    private static final LoadOptions SERVED = new LoadOptions(Set.of(new LoadOptions.FnBn(1, 0)));
    private final Map<String, Double> ms = new LinkedHashMap<>();

    @Test
    void measure() throws Exception {
        Path dir = modelDir();
        time("ort_init", () -> OrtRuntime.environment(0, 1, true));
        OrtRuntime runtime = CpuRuntime.create(true);
        DiffusersSnapshot snapshot = time("open_snapshot", () -> DiffusersSnapshot.open(dir));

        QwenTextEncoderConfig textConfig = QwenTextEncoderConfig.fromJson(snapshot.config("text_encoder"));
        component(runtime, snapshot, "text_encoder",
                w -> List.of(new QwenTextEncoder(textConfig).build(target(runtime), w)));
        var transformerConfig = QwenImageTransformerConfig.fromJson(snapshot.config("transformer"));
        // the sessions the server serves with its default split (F1B0): prologue, [0,1), [1,N), epilogue
        SegmentPartition served = new SegmentPartition(transformerConfig.numLayers(), SERVED.cuts(
                transformerConfig.numLayers()));
        component(runtime, snapshot, "transformer", w -> served.segments().stream()
                .map(seg -> new QwenImageTransformer(transformerConfig).build(target(runtime), w, seg)).toList());
        QwenImageVaeConfig vaeConfig = QwenImageVaeConfig.fromJson(snapshot.config("vae"));
        component(runtime, snapshot, "vae",
                w -> List.of(new QwenImageVaeDecoder(vaeConfig).build(target(runtime), w)));

        try (QwenImagePipeline pipeline = QwenImagePipeline.load(snapshot, runtime, SERVED, s -> { })) {
            int side = pipeline.sizeMultiple();
            time("warm_up", () -> pipeline.generate(GenerationParams.uncached("warm-up", null, side, side, 1, 1f, 0,
                    1, ImageCodec.Format.png), RequestContext.unbounded()));
        }
        Path out = Path.of("target", "measurements", "coldstart-breakdown.jsonl");
        Files.createDirectories(out.getParent());
        StringBuilder json = new StringBuilder("{\"model\":\"").append(dir.toAbsolutePath()).append('"');
        ms.forEach((k, v) -> json.append(String.format(",\"%s\":%.2f", k, v)));
        Files.writeString(out, json.append("}\n"), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.out.print(json);
    }

    private static GraphTarget target(OrtRuntime runtime) {
        return runtime.device().target();
    }

    private void component(OrtRuntime runtime, DiffusersSnapshot snapshot, String name,
            Function<WeightStore, List<GraphBuilder>> graphs) {
        try (WeightStore weights = time(name + ".map", () -> snapshot.weights(name))) {
            List<GraphBuilder> built = time(name + ".build", () -> graphs.apply(weights));
            time(name + ".serialize", () -> built.stream().map(GraphBuilder::toModelBytes).toList());
            // createSession serialises the graph again: the session figure is what remains.
            List<ModelSession> sessions = time(name + ".session", () -> built.stream()
                    .map(g -> runtime.createSession(g, weights)).toList());
            ms.merge(name + ".session", -ms.get(name + ".serialize"), Double::sum);
            sessions.forEach(ModelSession::close);
        }
    }

    private static Path modelDir() {
        String configured = System.getProperty("coldstart.model", "");
        if (!configured.isEmpty()) {
            return Path.of(configured);
        }
        Path dir = Path.of("target", "measurements", "qwen-image-tiny");
        if (!Files.exists(dir.resolve("model_index.json"))) {
            QwenImageSnapshot.write(dir, QwenImageSnapshot.TINY, DType.FLOAT32, 42);
        }
        return dir;
    }

    private <T> T time(String key, Supplier<T> step) {
        long start = System.nanoTime();
        T result = step.get();
        ms.put(key, (System.nanoTime() - start) / 1e6);
        return result;
    }
}
