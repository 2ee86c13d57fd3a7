package dev.ditfn.bench;

import dev.ditfn.model.TransformerSegment;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.model.qwenimage.QwenImageTransformerRunner;
import dev.ditfn.onnx.DType;
import dev.ditfn.pipeline.GenerationParams;
import dev.ditfn.pipeline.GenerationResult;
import dev.ditfn.pipeline.ImageCodec;
import dev.ditfn.pipeline.QwenImagePipeline;
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
import java.util.SplittableRandom;

/**
 * Qwen-Image pipeline figures, not tests: per-stage timings of the tiny and bench presets, the transformer
 * forward's achieved GFLOP/s against the machine's fp32 peak, and segmented vs monolithic overhead. Run with
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
        line("machine: %d cores, %s; fp32 peak assumed %.0f GFLOP/s (%s)", Runtime.getRuntime().availableProcessors(),
                cpuModel(), peakGflops(), PEAK_BASIS);
        for (QwenImageSnapshot.Preset preset : List.of(QwenImageSnapshot.TINY, QwenImageSnapshot.BENCH)) {
            Path dir = Path.of("target", "measurements", "qwen-image-" + preset.name());
            if (!Files.exists(dir.resolve("model_index.json"))) {
                QwenImageSnapshot.write(dir, preset, DType.FLOAT32, 42);
            }
            try (QwenImagePipeline pipeline = QwenImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.shared(),
                    s -> { })) {
                stageTimings(preset, pipeline);
                if (preset == QwenImageSnapshot.BENCH) {
                    transformerFigures(pipeline.transformer());
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
        double uncachedTextMs = pipeline.generate(params).timingsMs().get("text_encode");
        Map<String, List<Double>> stages = new LinkedHashMap<>();
        for (int r = 0; r < RUNS; r++) {
            GenerationResult result = pipeline.generate(params);
            result.timingsMs().forEach((k, v) -> stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        StringBuilder sb = new StringBuilder();
        stages.forEach((k, v) -> sb.append(String.format(" %s %.1f", k, median(v))));
        line("%s preset, %dx%d, %d steps, CFG on (2 forwards/step), median of %d runs, ms:%s "
                + "(text_encode with both prompts uncached, first run: %.1f)", preset.name(), SIDE, SIDE, STEPS, RUNS, sb,
                uncachedTextMs);
    }

    /** Monolithic forward rate, and the cost of running the same forward as 2 and 3 chained segments. */
    private void transformerFigures(QwenImageTransformerRunner runner) throws Exception {
        QwenImageTransformerConfig c = runner.config();
        int h2 = SIDE / 16;
        int w2 = SIDE / 16;
        int n = h2 * w2;
        int textLen = 12;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] latents = new float[n * c.inChannels()];
        float[] prompt = new float[textLen * c.jointAttentionDim()];
        for (int i = 0; i < latents.length; i++) {
            latents[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (float) rnd.nextGaussian();
        }
        int blocks = runner.blocks();
        Map<String, List<TransformerSegment>> chains = new LinkedHashMap<>();
        chains.put("monolithic", List.of(TransformerSegment.whole(blocks)));
        chains.put("2 segments prologue+[0,1) [1,N)+epilogue", List.of(new TransformerSegment(0, 1, true, false, false),
                new TransformerSegment(1, blocks, false, true, false)));
        chains.put("3 segments prologue+[0,1) [1,N-1) [N-1,N)+epilogue", List.of(
                new TransformerSegment(0, 1, true, false, false),
                new TransformerSegment(1, blocks - 1, false, false, false),
                new TransformerSegment(blocks - 1, blocks, false, true, false)));
        Map<String, List<Double>> times = new LinkedHashMap<>();
        try (var cond = runner.condition(prompt, textLen, h2, w2)) {
            for (List<TransformerSegment> chain : chains.values()) {
                runner.forward(latents, 0.5f, cond, chain); // builds the sessions, warms up
            }
            for (int r = 0; r < 15; r++) { // interleaved so drift hits every variant alike
                for (Map.Entry<String, List<TransformerSegment>> e : chains.entrySet()) {
                    long t0 = System.nanoTime();
                    runner.forward(latents, 0.5f, cond, e.getValue());
                    times.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
                }
            }
        }
        double mono = median(times.get("monolithic"));
        double gflop = forwardFlops(c, n, textLen) / 1e9;
        line("bench transformer forward (%d blocks, width %d, %d image + %d text tokens): %.2f GFLOP, median %.1f ms "
                + "-> %.1f GFLOP/s = %.0f%% of the assumed fp32 peak", blocks, c.innerDim(), n, textLen, gflop, mono,
                gflop / (mono / 1e3), 100 * gflop / (mono / 1e3) / peakGflops());
        times.forEach((k, v) -> line("  %-52s median %.2f ms, ratio to monolithic %.3f (15 interleaved runs)", k,
                median(v), median(v) / mono));
    }

    /** Multiply-adds x2 of every matrix product in one forward (norms, softmax and elementwise ops not counted). */
    static double forwardFlops(QwenImageTransformerConfig c, int n, int l) {
        double d = c.innerDim();
        int s = n + l;
        double block = 24.0 * s * d * d + 4.0 * s * s * d + 2 * 2 * d * 6 * d;
        double prologue = 2.0 * n * c.inChannels() * d + 2.0 * l * c.jointAttentionDim() * d
                + 2 * (256 * d + d * d);
        double epilogue = 2 * d * 2 * d + 2.0 * n * d * c.outputDim();
        return c.numLayers() * block + prologue + epilogue;
    }

    static final String PEAK_BASIS = "cores x clock x 32 FLOP/cycle: two 256-bit FMA pipes per core";

    static double peakGflops() {
        return Runtime.getRuntime().availableProcessors() * cpuGhz() * 32;
    }

    private static double cpuGhz() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("cpu MHz"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(':') + 1).trim())).max().orElse(0) / 1e3;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?") + " @ "
                    + String.format("%.2f GHz", cpuGhz());
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private void line(String format, Object... args) {
        String s = String.format(format, args);
        System.out.println(s);
        report.append(s).append('\n');
    }
}
