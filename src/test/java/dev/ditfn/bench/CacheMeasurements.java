package dev.ditfn.bench;

import dev.ditfn.cache.CacheSettings;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.pipeline.GenerationParams;
import dev.ditfn.pipeline.GenerationResult;
import dev.ditfn.pipeline.ImageCodec;
import dev.ditfn.pipeline.QwenImagePipeline;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.TestConfig;
import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step-cache figures, not tests: on the bench preset, 256x256, CFG on, 28 and 50 steps, each setting's wall time
 * per image (median of interleaved runs, ratio to none from the same run), blocks_computed_fraction and the ideal
 * speedup it implies, and PSNR against the uncached image. Run with
 * {@code ./mvnw -B test -Dgroups=measure -Dsurefire.excludedGroups=none -Dtest=CacheMeasurements};
 * results go to stdout and {@code target/measurements/cache.txt}.
 */
@Tag("measure")
class CacheMeasurements {
    private static final int ROUNDS = 3;
    private final StringBuilder report = new StringBuilder();

    /** The settings compared, as request overrides. */
    static Map<String, Map<String, Object>> settings() {
        Map<String, Map<String, Object>> s = new LinkedHashMap<>();
        s.put("none", Map.of("backend", "none"));
        s.put("tea_cache 0.2", Map.of("backend", "tea_cache", "rel_l1_thresh", 0.2));
        s.put("cache_dit default (F1B0 W4 MC3 R0.24)", Map.of("backend", "cache_dit"));
        s.put("cache_dit + TaylorSeer (F1B0 W8 O1)", Map.of("backend", "cache_dit", "max_warmup_steps", 8,
                "enable_taylorseer", true, "taylorseer_order", 1));
        s.put("cache_dit + SCM fast (dynamic)", Map.of("backend", "cache_dit", "scm_steps_mask_policy", "fast"));
        return s;
    }

    @Test
    void measure() throws Exception {
        Path dir = Path.of("target", "measurements", "qwen-image-bench");
        if (!Files.exists(dir.resolve("model_index.json"))) {
            QwenImageSnapshot.write(dir, QwenImageSnapshot.BENCH, DType.FLOAT32, 42);
        }
        try (QwenImagePipeline pipeline = QwenImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.shared(),
                s -> { })) {
            for (int steps : new int[] {28, 50}) {
                compare(pipeline, steps);
            }
        }
        Path out = Path.of("target", "measurements", "cache.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
    }

    private void compare(QwenImagePipeline pipeline, int steps) throws Exception {
        Map<String, Map<String, Object>> settings = settings();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, GenerationResult> results = new LinkedHashMap<>();
        pipeline.generate(params(pipeline, steps, settings.get("none"))); // warm-up
        for (int r = 0; r < ROUNDS; r++) { // interleaved, so machine drift hits every setting alike
            for (Map.Entry<String, Map<String, Object>> e : settings.entrySet()) {
                long t0 = System.nanoTime();
                GenerationResult result = pipeline.generate(params(pipeline, steps, e.getValue()));
                times.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
                results.put(e.getKey(), result);
            }
        }
        double none = PipelineMeasurements.median(times.get("none"));
        BufferedImage reference = decode(results.get("none"));
        line("bench preset, 256x256, %d steps, CFG on, median of %d interleaved runs:", steps, ROUNDS);
        line("  %-40s %9s %8s %9s %8s %10s %8s", "setting", "ms/image", "speedup", "blocks", "ideal", "efficiency",
                "PSNR dB");
        for (String name : settings.keySet()) {
            double ms = PipelineMeasurements.median(times.get(name));
            double fraction = ((Number) results.get(name).cache().get("blocks_computed_fraction")).doubleValue();
            double speedup = none / ms;
            line("  %-40s %9.0f %7.2fx %9.3f %7.2fx %9.0f%% %8s", name, ms, speedup, fraction, 1 / fraction,
                    100 * speedup * fraction, name.equals("none") ? "inf" : String.format("%.2f",
                            psnr(reference, decode(results.get(name)))));
        }
    }

    private static GenerationParams params(QwenImagePipeline pipeline, int steps, Map<String, Object> cache) {
        Map<String, Object> base = CacheSettings.defaults(TestConfig.defaults().cache());
        CacheSettings settings = CacheSettings.resolve(base, cache, pipeline.transformerBlocks(), steps);
        Map<String, Object> merged = new LinkedHashMap<>(base);
        merged.putAll(cache);
        return new GenerationParams("a watercolor fox in a snowy forest", " ", 256, 256, steps, 4f, 7, 1,
                ImageCodec.Format.png, settings, settings.effective(merged), false);
    }

    static BufferedImage decode(GenerationResult r) throws java.io.IOException {
        return ImageIO.read(new ByteArrayInputStream(r.images().get(0).encoded()));
    }

    /** PSNR over 8-bit RGB. */
    static double psnr(BufferedImage a, BufferedImage b) {
        double se = 0;
        long n = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    int d = ((p >> shift) & 0xff) - ((q >> shift) & 0xff);
                    se += d * d;
                    n++;
                }
            }
        }
        double mse = se / n;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    private void line(String format, Object... args) {
        String s = String.format(format, args);
        System.out.println(s);
        report.append(s).append('\n');
    }
}
