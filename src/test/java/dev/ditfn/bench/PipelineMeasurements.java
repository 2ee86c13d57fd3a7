package dev.ditfn.bench;

import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Qwen-Image pipeline figures, not tests: per-stage timings of the tiny and bench presets, uncached (the step-cache
 * comparison is the {@code bench} command), and the transformer forward's GFLOP/s and segment overhead
 * ({@link TransformerFigures}, which {@code bench} reports too). Run with
 * {@code ./mvnw -B test -Dgroups=measure -Dsurefire.excludedGroups=none -Dtest=PipelineMeasurements};
 * results go to stdout and {@code target/measurements/pipeline.txt}.
 */
@Tag("measure")
class PipelineMeasurements {
    private static final int RUNS = 5;
    private static final int SIDE = 256;
    private static final int STEPS = 20;
    private final StringBuilder report = new StringBuilder();

    @Test
    void measure() throws Exception {
        line("machine: %s; fp32 peak assumed %.0f GFLOP/s (%s)", Machine.describe(), Machine.peakGflops(),
                Machine.PEAK_BASIS);
        for (QwenImageSnapshot.Preset preset : List.of(QwenImageSnapshot.TINY, QwenImageSnapshot.BENCH)) {
            Path dir = Path.of("target", "measurements", "qwen-image-" + preset.name());
            if (!Files.exists(dir.resolve("model_index.json"))) {
                QwenImageSnapshot.write(dir, preset, DType.FLOAT32, 42);
            }
            try (QwenImagePipeline pipeline = QwenImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.shared(),
                    new LoadOptions(Set.of(new LoadOptions.FnBn(1, 0))), s -> { })) {
                stageTimings(preset, pipeline);
                if (preset == QwenImageSnapshot.BENCH) {
                    TransformerFigures.measure(pipeline, SIDE, SIDE, 15).describe()
                            .forEach(l -> line("bench %s", l));
                }
            }
        }
        Path out = Path.of("target", "measurements", "pipeline.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
    }

    private void stageTimings(QwenImageSnapshot.Preset preset, QwenImagePipeline pipeline) {
        GenerationParams params = GenerationParams.uncached("a watercolor fox in a snowy forest", " ", SIDE, SIDE, STEPS,
                4f, 1, 1, ImageCodec.Format.png);
        // Warm-up; it also fills the prompt cache as a serving process would, so later runs hit it.
        double uncachedTextMs = pipeline.generate(params, RequestContext.unbounded()).timingsMs().get("text_encode");
        Map<String, List<Double>> stages = new LinkedHashMap<>();
        for (int r = 0; r < RUNS; r++) {
            GenerationResult result = pipeline.generate(params, RequestContext.unbounded());
            result.timingsMs().forEach((k, v) -> stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        StringBuilder sb = new StringBuilder();
        stages.forEach((k, v) -> sb.append(String.format(" %s %.1f", k, ImageMetrics.median(v))));
        line("%s preset, %dx%d, %d steps, CFG on (2 forwards/step), median of %d runs, ms:%s "
                + "(text_encode with both prompts uncached, first run: %.1f)", preset.name(), SIDE, SIDE, STEPS, RUNS, sb,
                uncachedTextMs);
    }

    private void line(String format, Object... args) {
        String s = String.format(format, args);
        System.out.println(s);
        report.append(s).append('\n');
    }
}
