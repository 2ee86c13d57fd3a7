package dev.ditfn.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ditfn.config.Device;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageBatch;
import dev.ditfn.scenes.FidelitySummary;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code bench}: compares step-cache settings on one model, interleaved so machine drift hits every setting alike,
 * and writes results.md/.csv/.json, a contact sheet and a speed/quality plot.
 */
public final class BenchCommand {
    public static final String USAGE = "usage: bench [--model DIR | --preset tiny|bench|edit-bench|zimage-bench|...] "
            + "[--steps 28,50] "
            + "[--size 256x256] [--prompts FILE | --eval-captions N] [--seeds 1,2] [--settings FILE] [--rounds N] [--out DIR] "
            + "[--device cpu|cuda|cann] [--cfg-scale 4] [--edit-area 65536] " + Args.LOAD_USAGE + "\n"
            + "  --eval-captions N: the first N distinct held-out scene captions of SceneSampler(seed "
            + BenchHarness.EVAL_CAPTIONS_SEED + "), SceneSplit.EVAL; prompts that are scene captions get a fidelity "
            + "score (SceneFidelity pass share)";
    static final Set<String> OPTIONS = Args.withLoadOptions("cfg-scale", "edit-area", "model", "preset", "steps",
            "size", "prompts", "eval-captions", "seeds", "settings", "rounds", "out", "device");
    static final List<String> STAGES = List.of("text_encode", "denoise", ImageBatch.DENOISE_BLOCKS, "decode");
    /** Derived per image: denoise minus its block segments, the per-step cost that no cache skips. */
    static final String OUTSIDE_BLOCKS = "denoise_outside_blocks";

    /** One measured image; {@code prompt} indexes the run's prompts, {@code promptText} is that prompt. */
    record Sample(int steps, String setting, int prompt, String promptText, long seed, double wallMs, Map<String, Double> stagesMs,
            double fraction, BufferedImage image) {
    }

    /**
     * One table row: a setting at one step count. {@code efficiency} is speedup / ideal over the whole image;
     * {@code denoiseEfficiency} the same over the denoise stage alone, so the per-image costs no cache can shrink
     * (text encoding, VAE decode, PNG) fall out and what remains is the per-step cost of a cached step.
     * {@code fidelitySummary} covers the images whose prompt is a scene caption (see {@link CaptionFidelity}); null
     * when none is.
     */
    public record Row(int steps, String setting, int images, double medianMs, double speedup, double fraction,
            double ideal, double efficiency, double denoiseEfficiency, double meanPsnr, double worstPsnr,
            double meanSsim,
            Map<String, Double> stageMedianMs, double peakRssMib, FidelitySummary fidelitySummary) {

        /** The share of this setting's captioned images that pass SceneFidelity; NaN when no prompt is a caption. */
        public double fidelity() {
            return fidelitySummary == null ? Double.NaN : fidelitySummary.accuracy();
        }
    }

    /** Everything a run produced. */
    public record Result(List<Row> rows, TransformerFigures transformer, Path out) {
    }

    private BenchCommand() {
    }

    public static int main(String... args) {
        try {
            Result r = run(args);
            System.out.println("bench results in " + r.out().toAbsolutePath());
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        } catch (Exception e) {
            System.err.println("bench failed: " + e);
            e.printStackTrace();
            return 1;
        }
    }

    public static Result run(String... args) throws Exception {
        Args a = new Args(args, OPTIONS);
        List<Integer> stepCounts = a.integers("steps", "28,50");
        int[] size = a.size("size", "256x256");
        List<String> prompts = BenchHarness.prompts(a, size);
        List<Long> seeds = a.longs("seeds", "1,2");
        List<BenchSettings.Setting> settings = a.path("settings") == null ? BenchSettings.defaults()
                : BenchSettings.read(a.path("settings"));
        int rounds = a.integer("rounds", 1);
        Device device = a.device();
        Path out = a.path("out") != null ? a.path("out") : Path.of("target", "bench",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be >= 1");
        }
        String commandLine = "bench " + String.join(" ", args);
        Files.createDirectories(out);
        System.setProperty("java.awt.headless", "true");

        List<Row> rows = new ArrayList<>();
        Map<Integer, List<Sample>> byStep = new LinkedHashMap<>();
        TransformerFigures figures;
        try (BenchHarness h = BenchHarness.open(a.path("model"), a.get("preset", "bench"), device,
                settings.stream().map(BenchSettings.Setting::cache).toList(),
                (float) a.number("cfg-scale", BenchHarness.DEFAULT_CFG_SCALE),
                a.integer("edit-area", BenchHarness.DEFAULT_EDIT_AREA), a.loadProperties())) {
            // Every request is checked before anything runs, so a bad setting fails fast.
            for (int steps : stepCounts) {
                for (BenchSettings.Setting s : settings) {
                    h.params(prompts.get(0), seeds.get(0), steps, size[0], size[1], s.cache());
                }
            }
            long total = (long) stepCounts.size() * rounds * prompts.size() * seeds.size() * settings.size();
            Progress progress = new Progress(total);
            for (int steps : stepCounts) {
                // Warm-up: runs each setting once and fills the prompt cache for every prompt, so no timed setting
                // pays for text encoding another setting does not.
                for (int i = 0; i < Math.max(settings.size(), prompts.size()); i++) {
                    BenchSettings.Setting s = settings.get(i % settings.size());
                    progress.note(String.format("steps %d: warm-up %s, prompt %d", steps, s.name(),
                            i % prompts.size() + 1));
                    h.generate(h.params(prompts.get(i % prompts.size()), seeds.get(0), steps, size[0], size[1],
                            s.cache()), null);
                }
                List<Sample> samples = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    for (int p = 0; p < prompts.size(); p++) {
                        for (long seed : seeds) {
                            for (BenchSettings.Setting s : settings) { // round-robin inside each round
                                progress.before(String.format("steps %d, round %d/%d, %s, prompt %d/%d seed %d",
                                        steps, r + 1, rounds, s.name(), p + 1, prompts.size(), seed));
                                long t0 = System.nanoTime();
                                GenerationResult g = h.generate(h.params(prompts.get(p), seed, steps, size[0],
                                        size[1], s.cache()), null);
                                double ms = (System.nanoTime() - t0) / 1e6;
                                progress.after(ms);
                                samples.add(new Sample(steps, s.name(), p, prompts.get(p), seed, ms, g.timingsMs(),
                                        BenchHarness.blocksFraction(g), BenchHarness.image(g)));
                            }
                        }
                    }
                }
                byStep.put(steps, samples);
                rows.addAll(aggregate(steps, settings, samples, Machine.peakRssMib()));
            }
            progress.note("transformer forward figures (monolithic vs the served segments)");
            // GFLOP counts are written for the Qwen-Image DiT; other families report no forward figures
            figures = h.pipeline() instanceof QwenImagePipeline q
                    ? TransformerFigures.measure(q, size[0], size[1], 10) : null;
            BenchReport.write(out, commandLine, h.modelDescription() + ", device " + device + ", " + h.guidance(), size, prompts, seeds,
                    rounds, settings, rows, figures, byStep);
        }
        return new Result(rows, figures, out);
    }

    static List<Row> aggregate(int steps, List<BenchSettings.Setting> settings, List<Sample> samples, double rss) {
        String noneName = settings.stream().filter(BenchSettings.Setting::uncached).findFirst().orElseThrow().name();
        Map<String, BufferedImage> reference = new LinkedHashMap<>();
        for (Sample s : samples) {
            if (s.setting().equals(noneName)) {
                reference.put(s.prompt() + "/" + s.seed(), s.image());
            }
        }
        List<Sample> uncached = samples.stream().filter(s -> s.setting().equals(noneName)).toList();
        double noneMs = ImageMetrics.median(uncached.stream().map(Sample::wallMs).toList());
        double noneDenoiseMs = ImageMetrics.median(uncached.stream()
                .map(s -> s.stagesMs().getOrDefault("denoise", 0.0)).toList());
        List<Row> rows = new ArrayList<>();
        for (BenchSettings.Setting setting : settings) {
            List<Sample> mine = samples.stream().filter(s -> s.setting().equals(setting.name())).toList();
            List<Double> psnr = new ArrayList<>();
            List<Double> ssim = new ArrayList<>();
            for (Sample s : mine) {
                BufferedImage ref = reference.get(s.prompt() + "/" + s.seed());
                psnr.add(ImageMetrics.psnr(ref, s.image()));
                ssim.add(ImageMetrics.ssim(ref, s.image()));
            }
            double ms = ImageMetrics.median(mine.stream().map(Sample::wallMs).toList());
            double fraction = ImageMetrics.mean(mine.stream().map(Sample::fraction).toList());
            Map<String, Double> stages = new LinkedHashMap<>();
            for (String stage : STAGES) {
                stages.put(stage, ImageMetrics.median(mine.stream()
                        .map(s -> s.stagesMs().getOrDefault(stage, 0.0)).toList()));
            }
            stages.put(OUTSIDE_BLOCKS, ImageMetrics.median(mine.stream().map(s -> s.stagesMs().getOrDefault("denoise", 0.0)
                    - s.stagesMs().getOrDefault(ImageBatch.DENOISE_BLOCKS, 0.0)).toList()));
            double speedup = noneMs / ms;
            rows.add(new Row(steps, setting.name(), mine.size(), ms, speedup, fraction, 1 / fraction,
                    speedup * fraction, noneDenoiseMs / stages.get("denoise") * fraction, ImageMetrics.mean(psnr),
                    psnr.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN), ImageMetrics.mean(ssim),
                    stages, rss, fidelity(mine)));
        }
        return rows;
    }

    /** SceneFidelity over the samples whose prompt is a scene caption; null when none is. */
    static FidelitySummary fidelity(List<Sample> samples) {
        return CaptionFidelity.summary(samples.stream()
                .flatMap(s -> CaptionFidelity.score(s.promptText(), s.image()).stream()).toList());
    }

    /** Progress and ETA on stderr, from the mean wall time per image so far. */
    static final class Progress {
        private final long total;
        private long done;
        private double spentMs;

        Progress(long total) {
            this.total = total;
        }

        void note(String what) {
            System.err.println("[bench] " + what);
        }

        void before(String what) {
            String eta = done == 0 ? "?" : duration((total - done) * spentMs / done);
            System.err.printf(Locale.ROOT, "[bench] image %d/%d: %s (ETA %s)%n", done + 1, total, what, eta);
        }

        void after(double ms) {
            done++;
            spentMs += ms;
        }

        static String duration(double ms) {
            long s = Math.round(ms / 1e3);
            return s >= 60 ? (s / 60) + "m" + String.format("%02d", s % 60) + "s" : s + "s";
        }
    }

    static ObjectMapper json() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    static void writeString(Path file, String text) throws IOException {
        Files.writeString(file, text);
    }
}
