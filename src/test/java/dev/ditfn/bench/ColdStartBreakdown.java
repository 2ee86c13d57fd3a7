package dev.ditfn.bench;

import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.ImageCodec;
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
import java.util.Map;
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
    private final Map<String, Double> ms = new LinkedHashMap<>();

    @Test
    void measure() throws Exception {
        Path dir = modelDir();
        time("ort_init", () -> OrtRuntime.environment(0, 1));
        OrtRuntime runtime = CpuRuntime.create(true);
        DiffusersSnapshot snapshot = time("open_snapshot", () -> DiffusersSnapshot.open(dir));

        QwenTextEncoderConfig textConfig = QwenTextEncoderConfig.fromJson(snapshot.config("text_encoder"));
        component(runtime, snapshot, "text_encoder", w -> new QwenTextEncoder(textConfig).build(target(runtime), w));
        var transformerConfig = QwenImageTransformerConfig.fromJson(snapshot.config("transformer"));
        component(runtime, snapshot, "transformer", w -> new QwenImageTransformer(transformerConfig)
                .build(target(runtime), w, TransformerSegment.whole(transformerConfig.numLayers())));
        QwenImageVaeConfig vaeConfig = QwenImageVaeConfig.fromJson(snapshot.config("vae"));
        component(runtime, snapshot, "vae", w -> new QwenImageVaeDecoder(vaeConfig).build(target(runtime), w));

        try (QwenImagePipeline pipeline = QwenImagePipeline.load(snapshot, runtime, s -> { })) {
            int side = pipeline.sizeMultiple();
            time("warm_up", () -> pipeline.generate(GenerationParams.uncached("warm-up", null, side, side, 1, 1f, 0,
                    1, ImageCodec.Format.png)));
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
            Function<WeightStore, GraphBuilder> graph) {
        try (WeightStore weights = time(name + ".map", () -> snapshot.weights(name))) {
            GraphBuilder g = time(name + ".build", () -> graph.apply(weights));
            time(name + ".serialize", g::toModelBytes);
            // createSession serialises the graph again: the session figure is what remains.
            ModelSession session = time(name + ".session", () -> runtime.createSession(g, weights));
            ms.merge(name + ".session", -ms.get(name + ".serialize"), Double::sum);
            session.close();
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
