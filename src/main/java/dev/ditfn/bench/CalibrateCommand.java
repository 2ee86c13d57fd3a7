package dev.ditfn.bench;

import dev.ditfn.cache.Branch;
import dev.ditfn.cache.RelativeL1;
import dev.ditfn.config.Device;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.scenes.FidelityResult;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code calibrate}: (a) fits TeaCache's rescale polynomial on this model (x = relative L1 of consecutive
 * modulated inputs, y = relative L1 of consecutive block-stack outputs, per branch; degree 4, highest degree
 * first), (b) sweeps {@code rel_l1_thresh} (with the fitted coefficients) and {@code residual_diff_threshold},
 * and recommends per backend the most aggressive setting whose worst PSNR against the uncached image stays at or
 * above {@code --min-psnr}. "Most aggressive" is ranked by the ideal speedup 1/blocks_computed_fraction, since one
 * run per image is too noisy to rank by wall time; measured wall-time speedups are reported beside it. When the
 * prompts are scene captions, every image is also scored with {@link CaptionFidelity}, and with
 * {@code --max-fidelity-loss X} a setting must also keep its fidelity at or above the uncached fidelity minus X.
 */
public final class CalibrateCommand {
    public static final String USAGE = "usage: calibrate [--model DIR | --preset tiny|bench|edit-bench|zimage-bench|...] "
            + "[--steps 50] "
            + "[--size 256x256] [--prompts FILE | --eval-captions N] [--seeds 1,2] [--min-psnr 30] "
            + "[--max-fidelity-loss 0.02] [--out DIR] [--device cpu|cuda|cann] "
            + "[--tea-thresholds 0.05,...] [--dbcache-thresholds 0.05,...] [--cfg-scale 4] [--edit-area 65536] "
            + Args.LOAD_USAGE + "\n"
            + "  --eval-captions N: the first N distinct held-out scene captions of SceneSampler(seed "
            + BenchHarness.EVAL_CAPTIONS_SEED + "), SceneSplit.EVAL\n"
            + "  --max-fidelity-loss X: also require fidelity (SceneFidelity pass share) >= uncached fidelity - X; "
            + "needs scene-caption prompts (default: no fidelity bound)";
    static final Set<String> OPTIONS = Args.withLoadOptions("cfg-scale", "edit-area", "model", "preset", "steps",
            "size", "prompts", "eval-captions", "seeds", "min-psnr", "max-fidelity-loss", "out", "device", "tea-thresholds",
            "dbcache-thresholds");
    static final String TEA_THRESHOLDS = "0.05,0.1,0.2,0.3,0.4,0.6,0.8,1.0";
    static final String DBCACHE_THRESHOLDS = "0.05,0.08,0.12,0.16,0.24,0.32,0.5,0.8";

    /** One swept setting; {@code fidelity} is its SceneFidelity pass share, NaN when no prompt is a caption. */
    public record Candidate(String backend, String key, double threshold, double fraction, double wallSpeedup,
            double meanPsnr, double worstPsnr, double fidelity) {
        public double ideal() {
            return 1 / fraction;
        }
    }

    /**
     * What a recommended setting must meet: worst PSNR >= {@code minPsnr}, and fidelity >= {@code minFidelity}
     * unless that is NaN (no fidelity bound).
     */
    record Bounds(double minPsnr, double minFidelity) {
        /** Slack for comparing shares such as 49/50 with 1 - 0.02, which differ in the last bit. */
        private static final double SHARE_EPSILON = 1e-9;

        /** The bounds of a run: a fidelity floor only when a loss bound is given. */
        static Bounds of(double minPsnr, double uncachedFidelity, double maxFidelityLoss) {
            return new Bounds(minPsnr, Double.isNaN(maxFidelityLoss) ? Double.NaN : uncachedFidelity - maxFidelityLoss);
        }

        boolean fidelityBounded() {
            return !Double.isNaN(minFidelity);
        }

        boolean met(Candidate c) {
            return c.worstPsnr() >= minPsnr && (!fidelityBounded() || c.fidelity() >= minFidelity - SHARE_EPSILON);
        }
    }

    /** What a run produced; {@code uncachedFidelity} is NaN when no prompt is a caption. */
    public record Result(double[] coefficients, int points, List<Candidate> candidates,
            Map<String, Candidate> recommended, double uncachedFidelity, Path out) {
    }

    private CalibrateCommand() {
    }

    public static int main(String... args) {
        try {
            Result r = run(args);
            System.out.println("calibration results in " + r.out().toAbsolutePath());
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("calibrate: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        } catch (Exception e) {
            System.err.println("calibrate failed: " + e);
            e.printStackTrace();
            return 1;
        }
    }

    public static Result run(String... args) throws Exception {
        Args a = new Args(args, OPTIONS);
        int steps = a.integer("steps", 50);
        int[] size = a.size("size", "256x256");
        List<String> prompts = BenchHarness.prompts(a, size);
        List<Long> seeds = a.longs("seeds", "1,2");
        double minPsnr = a.number("min-psnr", 30);
        double maxFidelityLoss = maxFidelityLoss(a, prompts, size);
        List<Double> teaThresholds = a.doubles("tea-thresholds", TEA_THRESHOLDS);
        List<Double> dbThresholds = a.doubles("dbcache-thresholds", DBCACHE_THRESHOLDS);
        Device device = a.device();
        Path out = a.path("out") != null ? a.path("out") : Path.of("target", "calibrate",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(out);
        String commandLine = "calibrate " + String.join(" ", args);

        try (BenchHarness h = BenchHarness.open(a.path("model"), a.get("preset", "bench"), device, List.of(),
                (float) a.number("cfg-scale", BenchHarness.DEFAULT_CFG_SCALE),
                a.integer("edit-area", BenchHarness.DEFAULT_EDIT_AREA), a.loadProperties())) {
            // (a) TeaCache coefficients: tea_cache at threshold 0 computes every step; the observer sees each.
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int p = 0; p < prompts.size(); p++) {
                for (long seed : seeds) {
                    log(String.format("collecting modulated inputs and block-stack outputs: prompt %d/%d seed %d",
                            p + 1, prompts.size(), seed));
                    Map<Branch, float[][]> previous = new EnumMap<>(Branch.class);
                    h.generate(h.params(prompts.get(p), seed, steps, size[0], size[1], Map.of("backend", "tea_cache",
                            "rel_l1_thresh", 0.0)), (branch, step, modulated, output) -> {
                                float[][] prev = previous.put(branch, new float[][] {modulated.clone(),
                                        output.clone()});
                                if (prev != null) {
                                    xs.add(RelativeL1.of(modulated, prev[0], 1e-8));
                                    ys.add(RelativeL1.of(output, prev[1], 1e-8));
                                }
                            });
                }
            }
            // Uncached references (the monolithic graph), with one warm-up run first. They run after (a), which
            // already filled the prompt cache, so their wall time is comparable to the sweep's.
            log("warm-up and uncached references");
            h.generate(h.params(prompts.get(0), seeds.get(0), steps, size[0], size[1], Map.of("backend", "none")),
                    null);
            Map<String, BufferedImage> refs = new LinkedHashMap<>();
            List<Double> noneMs = new ArrayList<>();
            List<FidelityResult> refFidelity = new ArrayList<>();
            for (int p = 0; p < prompts.size(); p++) {
                for (long seed : seeds) {
                    long t0 = System.nanoTime();
                    GenerationResult g = h.generate(h.params(prompts.get(p), seed, steps, size[0], size[1],
                            Map.of("backend", "none")), null);
                    noneMs.add((System.nanoTime() - t0) / 1e6);
                    BufferedImage image = BenchHarness.image(g);
                    refs.put(p + "/" + seed, image);
                    CaptionFidelity.score(prompts.get(p), image).ifPresent(refFidelity::add);
                }
            }
            double uncachedFidelity = CaptionFidelity.passShare(refFidelity);
            Bounds bounds = Bounds.of(minPsnr, uncachedFidelity, maxFidelityLoss);

            double[] x = xs.stream().mapToDouble(Double::doubleValue).toArray();
            double[] y = ys.stream().mapToDouble(Double::doubleValue).toArray();
            double[] coefficients = PolynomialFit.fit(x, y, 4);
            double se = 0;
            for (int i = 0; i < x.length; i++) {
                double d = PolynomialFit.evaluate(coefficients, x[i]) - y[i];
                se += d * d;
            }
            double rmse = Math.sqrt(se / x.length);
            String coefficientsLine = "dit.cache.coefficients=" + Arrays.stream(coefficients)
                    .mapToObj(c -> String.format(Locale.ROOT, "%.9g", c)).collect(Collectors.joining(","));
            Map<String, Object> fit = new LinkedHashMap<>();
            fit.put("coefficients", coefficients);
            fit.put("order", "highest degree first (numpy.polyfit / poly1d)");
            fit.put("config", coefficientsLine);
            fit.put("points", x.length);
            fit.put("x_range", new double[] {Arrays.stream(x).min().orElse(0), Arrays.stream(x).max().orElse(0)});
            fit.put("y_range", new double[] {Arrays.stream(y).min().orElse(0), Arrays.stream(y).max().orElse(0)});
            fit.put("rmse", rmse);
            fit.put("model", h.modelDescription());
            fit.put("steps", steps);
            fit.put("size", size[0] + "x" + size[1]);
            fit.put("prompts", prompts);
            fit.put("seeds", seeds);
            fit.put("pairs", pairs(x, y));
            BenchCommand.json().writeValue(out.resolve("teacache_coefficients.json").toFile(), fit);
            System.out.println("TeaCache coefficients (" + x.length + " points, rmse " + String.format(Locale.ROOT,
                    "%.3g", rmse) + "): " + coefficientsLine);

            // (b) threshold sweep against the uncached references.
            List<Double> coefficientList = Arrays.stream(coefficients).boxed().toList();
            List<Candidate> candidates = new ArrayList<>();
            double none = ImageMetrics.median(noneMs);
            // Untimed warm-up per backend: builds its segment sessions before anything is timed.
            h.generate(h.params(prompts.get(0), seeds.get(0), steps, size[0], size[1], Map.of("backend", "cache_dit")),
                    null);
            for (double t : teaThresholds) {
                candidates.add(measure(h, "tea_cache", "rel_l1_thresh", t, Map.of("backend", "tea_cache",
                        "rel_l1_thresh", t, "coefficients", coefficientList), prompts, seeds, steps, size, refs, none));
            }
            for (double t : dbThresholds) {
                candidates.add(measure(h, "cache_dit", "residual_diff_threshold", t, Map.of("backend", "cache_dit",
                        "residual_diff_threshold", t), prompts, seeds, steps, size, refs, none));
            }
            Map<String, Candidate> recommended = recommend(candidates, bounds);
            String frontier = frontier(commandLine, h.modelDescription() + ", " + h.guidance(), steps, size, prompts,
                    seeds, bounds, uncachedFidelity, coefficientsLine, rmse, x.length, candidates, recommended);
            Files.writeString(out.resolve("frontier.md"), frontier);
            Files.writeString(out.resolve("recommended.properties"), properties(bounds, uncachedFidelity, steps,
                    coefficients, recommended));
            System.out.print(frontier);
            return new Result(coefficients, x.length, candidates, recommended, uncachedFidelity, out);
        }
    }

    /**
     * {@code --max-fidelity-loss}, NaN when not given; checked before any model loads, since without captions (or
     * with images SceneFidelity cannot score) there is no fidelity to bound.
     */
    private static double maxFidelityLoss(Args a, List<String> prompts, int[] size) {
        if (!a.has("max-fidelity-loss")) {
            return Double.NaN;
        }
        double loss = a.number("max-fidelity-loss", Double.NaN);
        if (!(loss >= 0 && loss <= 1)) {
            throw new IllegalArgumentException("--max-fidelity-loss must be a share in [0, 1], was " + loss);
        }
        if (!CaptionFidelity.anyCaption(prompts)) {
            throw new IllegalArgumentException("--max-fidelity-loss needs scene-caption prompts (e.g. --eval-captions "
                    + "N), but no prompt parses as a scene caption");
        }
        CaptionFidelity.requireScorable(size, "--max-fidelity-loss");
        return loss;
    }

    /**
     * Per backend, the candidate meeting {@code bounds} with the highest ideal speedup (ties: the lower threshold);
     * a backend with none is absent.
     */
    static Map<String, Candidate> recommend(List<Candidate> candidates, Bounds bounds) {
        Map<String, Candidate> recommended = new LinkedHashMap<>();
        for (String backend : List.of("tea_cache", "cache_dit")) {
            candidates.stream().filter(c -> c.backend().equals(backend) && bounds.met(c))
                    .max((p, q) -> p.ideal() != q.ideal() ? Double.compare(p.ideal(), q.ideal())
                            : Double.compare(q.threshold(), p.threshold()))
                    .ifPresent(c -> recommended.put(backend, c));
        }
        return recommended;
    }

    private static List<double[]> pairs(double[] x, double[] y) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            out.add(new double[] {x[i], y[i]});
        }
        return out;
    }

    private static Candidate measure(BenchHarness h, String backend, String key, double threshold,
            Map<String, Object> cache, List<String> prompts, List<Long> seeds, int steps, int[] size,
            Map<String, BufferedImage> refs, double noneMs) {
        log(String.format(Locale.ROOT, "sweep %s %s=%.3g", backend, key, threshold));
        List<Double> fractions = new ArrayList<>();
        List<Double> psnr = new ArrayList<>();
        List<Double> ms = new ArrayList<>();
        List<FidelityResult> fidelity = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            for (long seed : seeds) {
                long t0 = System.nanoTime();
                GenerationResult g = h.generate(h.params(prompts.get(p), seed, steps, size[0], size[1], cache), null);
                ms.add((System.nanoTime() - t0) / 1e6);
                fractions.add(BenchHarness.blocksFraction(g));
                BufferedImage image = BenchHarness.image(g);
                psnr.add(ImageMetrics.psnr(refs.get(p + "/" + seed), image));
                CaptionFidelity.score(prompts.get(p), image).ifPresent(fidelity::add);
            }
        }
        return new Candidate(backend, key, threshold, ImageMetrics.mean(fractions), noneMs / ImageMetrics.median(ms),
                ImageMetrics.mean(psnr), psnr.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
                CaptionFidelity.passShare(fidelity));
    }

    static String frontier(String commandLine, String model, int steps, int[] size, List<String> prompts,
            List<Long> seeds, Bounds bounds, double uncachedFidelity, String coefficientsLine, double rmse, int points,
            List<Candidate> candidates, Map<String, Candidate> recommended) {
        double minPsnr = bounds.minPsnr();
        StringBuilder sb = new StringBuilder("# dit-fn calibrate\n\n");
        sb.append("- command: `").append(commandLine).append("`\n");
        sb.append("- machine: ").append(Machine.describe()).append('\n');
        sb.append("- model: ").append(model).append('\n');
        sb.append(String.format(Locale.ROOT, "- %d steps, %dx%d, %d prompts x seeds %s; PSNR against the "
                + "uncached image; bound: worst PSNR >= %.1f dB%n", steps, size[0], size[1], prompts.size(), seeds,
                minPsnr));
        sb.append("- ").append(fidelityLine(bounds, uncachedFidelity)).append('\n');
        sb.append(String.format(Locale.ROOT, "- TeaCache fit (%d points, rmse %.3g): `%s`%n", points, rmse,
                coefficientsLine));
        sb.append("- ranking by ideal speedup = 1 / blocks_computed_fraction (timing one image per setting is too "
                + "noisy); wall-time speedup (median over the images, against the uncached median) shown beside it\n\n");
        sb.append("| backend | threshold | blocks computed | ideal speedup | wall speedup | PSNR mean dB | "
                + "PSNR worst dB | fidelity | meets bounds | Pareto |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Candidate c : candidates) {
            boolean pareto = candidates.stream().noneMatch(o -> o != c && dominates(o, c, bounds.fidelityBounded()));
            sb.append(String.format(Locale.ROOT, "| %s | %s=%.3g | %.3f | %.2fx | %.2fx | %s | %s | %s | %s | %s |%n",
                    c.backend(), c.key(), c.threshold(), c.fraction(), c.ideal(), c.wallSpeedup(),
                    BenchReport.db(c.meanPsnr()), BenchReport.db(c.worstPsnr()), CaptionFidelity.percent(c.fidelity()),
                    bounds.met(c) ? "yes" : "no",
                    pareto ? "yes" : ""));
        }
        sb.append("\n## Recommendation\n\n");
        for (String backend : List.of("tea_cache", "cache_dit")) {
            Candidate c = recommended.get(backend);
            sb.append(c == null ? String.format(Locale.ROOT, "- %s: no swept threshold keeps the worst PSNR >= %.1f "
                    + "dB%s%n", backend, minPsnr, bounds.fidelityBounded() ? " and the fidelity bound" : "")
                    : String.format(Locale.ROOT, "- %s: %s=%.3g (ideal %.2fx, wall %.2fx, worst PSNR %s dB, fidelity "
                            + "%s)%n", backend, c.key(), c.threshold(), c.ideal(), c.wallSpeedup(),
                            BenchReport.db(c.worstPsnr()), CaptionFidelity.percent(c.fidelity())));
        }
        return sb.toString();
    }

    /** How frontier.md states fidelity: what it measures, the uncached share, and the bound. */
    private static String fidelityLine(Bounds bounds, double uncachedFidelity) {
        if (Double.isNaN(uncachedFidelity)) {
            return "fidelity: not measured (no prompt is a scene caption)";
        }
        return CaptionFidelity.DESCRIPTION + "; uncached fidelity " + CaptionFidelity.percent(uncachedFidelity)
                + "; bound: " + (bounds.fidelityBounded() ? "fidelity >= " + CaptionFidelity.percent(bounds.minFidelity())
                        + " (uncached minus --max-fidelity-loss)" : "none (no --max-fidelity-loss)");
    }

    /**
     * Whether {@code o} is at least as good as {@code c} in ideal speedup, worst PSNR and (when fidelity is bounded)
     * fidelity, and better in one of them.
     */
    static boolean dominates(Candidate o, Candidate c, boolean withFidelity) {
        boolean fidelityAsGood = !withFidelity || o.fidelity() >= c.fidelity();
        boolean fidelityBetter = withFidelity && o.fidelity() > c.fidelity();
        return o.ideal() >= c.ideal() && o.worstPsnr() >= c.worstPsnr() && fidelityAsGood
                && (o.ideal() > c.ideal() || o.worstPsnr() > c.worstPsnr() || fidelityBetter);
    }

    static String properties(Bounds bounds, double uncachedFidelity, int steps, double[] coefficients,
            Map<String, Candidate> recommended) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "# dit-fn calibrate: the most aggressive swept setting per backend whose "
                + "worst PSNR vs uncached stays >= %.1f dB (%d steps).%n", bounds.minPsnr(), steps));
        if (!Double.isNaN(uncachedFidelity)) {
            sb.append("# ").append(fidelityLine(bounds, uncachedFidelity)).append('\n');
        }
        sb.append("# Paste under a profile, e.g. %mymodel.dit.cache.backend=..., or use as is.\n");
        Candidate best = recommended.values().stream().max((p, q) -> Double.compare(p.ideal(), q.ideal()))
                .orElse(null);
        sb.append("dit.cache.backend=").append(best == null ? "none" : best.backend()).append('\n');
        Candidate tea = recommended.get("tea_cache");
        sb.append(tea == null ? "# tea_cache: no threshold met the bound\n" : String.format(Locale.ROOT,
                "# tea_cache: ideal %.2fx, worst PSNR %s dB%s%ndit.cache.rel_l1_thresh=%s%n", tea.ideal(),
                BenchReport.db(tea.worstPsnr()), fidelityNote(tea), num(tea.threshold())));
        sb.append("dit.cache.coefficients=").append(Arrays.stream(coefficients)
                .mapToObj(c -> String.format(Locale.ROOT, "%.9g", c)).collect(Collectors.joining(","))).append('\n');
        Candidate db = recommended.get("cache_dit");
        sb.append(db == null ? "# cache_dit: no threshold met the bound\n" : String.format(Locale.ROOT,
                "# cache_dit: ideal %.2fx, worst PSNR %s dB%s%ndit.cache.residual_diff_threshold=%s%n", db.ideal(),
                BenchReport.db(db.worstPsnr()), fidelityNote(db), num(db.threshold())));
        return sb.toString();
    }

    /** ", fidelity 95%" when fidelity was measured, else nothing. */
    private static String fidelityNote(Candidate c) {
        return Double.isNaN(c.fidelity()) ? "" : ", fidelity " + CaptionFidelity.percent(c.fidelity());
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%s", v);
    }

    private static void log(String what) {
        System.err.println("[calibrate] " + what);
    }
}
