package dev.ditfn.bench;

import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.scenes.Scene;
import dev.ditfn.scenes.SceneCaption;
import dev.ditfn.scenes.SceneRenderer;
import dev.ditfn.scenes.SceneSplit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fidelity in bench and calibrate: held-out prompts, the per-setting share, and the calibrate bound. */
class CaptionFidelityTest {
    private static final int SIDE = 64;
    private static final String NOT_A_CAPTION = "a watercolor fox in a snowy forest";

    @Test
    void evalCaptionsAreDistinctHeldOutCaptions() {
        List<String> captions = BenchHarness.evalCaptions(5);
        assertEquals(5, captions.size());
        assertEquals(5, new HashSet<>(captions).size());
        for (String c : captions) {
            Scene scene = SceneCaption.parse(c).orElseThrow(() -> new AssertionError("not a caption: " + c));
            assertTrue(SceneSplit.EVAL.contains(scene), c);
        }
        assertEquals(captions, BenchHarness.evalCaptions(5), "fixed seed, same prompts every run");
    }

    @Test
    void evalCaptionsAndPromptsTogetherAreRejected(@TempDir Path tmp) throws Exception {
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "a small red boat\n");
        String[] both = {"--eval-captions", "2", "--prompts", prompts.toString(), "--out", tmp.toString()};
        IllegalArgumentException bench = assertThrows(IllegalArgumentException.class, () -> BenchCommand.run(both));
        assertTrue(bench.getMessage().contains("mutually exclusive"), bench.getMessage());
        IllegalArgumentException calibrate = assertThrows(IllegalArgumentException.class,
                () -> CalibrateCommand.run(both));
        assertTrue(calibrate.getMessage().contains("mutually exclusive"), calibrate.getMessage());
    }

    @Test
    void fidelityBoundWithoutCaptionsIsRejected(@TempDir Path tmp) throws Exception {
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "a small red boat\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrateCommand.run(
                "--prompts", prompts.toString(), "--max-fidelity-loss", "0.02", "--out", tmp.toString()));
        assertTrue(e.getMessage().contains("no prompt parses as a scene caption"), e.getMessage());
    }

    @Test
    void benchRowCountsTheShareOfCaptionedImagesThatPass() {
        List<String> prompts = List.of(BenchHarness.evalCaptions(2).get(0), BenchHarness.evalCaptions(2).get(1),
                NOT_A_CAPTION);
        List<BenchSettings.Setting> settings = List.of(new BenchSettings.Setting("none", Map.of("backend", "none")),
                new BenchSettings.Setting("fast", Map.of("backend", "tea_cache")));
        List<BenchCommand.Sample> samples = List.of(
                sample("none", 0, prompts, rendered(prompts.get(0))),
                sample("none", 1, prompts, rendered(prompts.get(1))),
                sample("none", 2, prompts, blank(prompts.get(0))), // not a caption: not scored
                sample("fast", 0, prompts, rendered(prompts.get(0))),
                sample("fast", 1, prompts, blank(prompts.get(1))), // objects missing: fails
                sample("fast", 2, prompts, blank(prompts.get(0))));
        List<BenchCommand.Row> rows = BenchCommand.aggregate(4, settings, samples, 0);
        assertEquals(1.0, rows.get(0).fidelity());
        assertEquals(0.5, rows.get(1).fidelity());
        assertEquals(2, rows.get(1).fidelitySummary().count());
        assertEquals(1.0, rows.get(1).fidelitySummary().background());
        assertEquals(0.5, rows.get(1).fidelitySummary().shape());

        assertTrue(BenchReport.table(rows).contains("| 50% |"), BenchReport.table(rows));
        List<String> csv = BenchReport.csv(rows).lines().toList();
        assertTrue(csv.get(0).endsWith(",fidelity"));
        assertTrue(csv.get(2).endsWith(",0.5000"), csv.get(2));
    }

    @Test
    void benchRowHasNoFidelityWhenNoPromptIsACaption() {
        List<String> prompts = List.of(NOT_A_CAPTION);
        List<BenchSettings.Setting> settings = List.of(new BenchSettings.Setting("none", Map.of("backend", "none")));
        BufferedImage image = blank(BenchHarness.evalCaptions(1).get(0));
        List<BenchCommand.Row> rows = BenchCommand.aggregate(4, settings, List.of(sample("none", 0, prompts, image)), 0);
        assertTrue(Double.isNaN(rows.get(0).fidelity()));
        assertNull(rows.get(0).fidelitySummary());
        assertTrue(BenchReport.table(rows).contains("| — |"));
        assertTrue(BenchReport.csv(rows).lines().toList().get(1).endsWith(","));
    }

    @Test
    void fasterCandidateLosingTooMuchFidelityIsNotRecommended() {
        CalibrateCommand.Candidate safe = candidate(0.1, 0.5, 1.0);
        CalibrateCommand.Candidate fast = candidate(0.3, 0.25, 0.9); // 4x ideal, but loses 10 points of fidelity
        List<CalibrateCommand.Candidate> candidates = List.of(safe, fast);

        assertEquals(fast, CalibrateCommand.recommend(candidates,
                CalibrateCommand.Bounds.of(30, 1.0, Double.NaN)).get("tea_cache"), "no fidelity bound");
        assertEquals(safe, CalibrateCommand.recommend(candidates,
                CalibrateCommand.Bounds.of(30, 1.0, 0.05)).get("tea_cache"), "bound 5 points");
        assertEquals(fast, CalibrateCommand.recommend(candidates,
                CalibrateCommand.Bounds.of(30, 1.0, 0.1)).get("tea_cache"), "a loss equal to the bound is allowed");
        assertFalse(CalibrateCommand.recommend(List.of(fast), CalibrateCommand.Bounds.of(30, 1.0, 0.05))
                .containsKey("tea_cache"));
    }

    @Test
    void paretoCountsFidelityOnlyWhenItIsBounded() {
        CalibrateCommand.Candidate faithful = candidate(0.1, 0.5, 1.0);
        CalibrateCommand.Candidate unfaithful = candidate(0.2, 0.5, 0.5); // same speed and PSNR, worse fidelity
        assertTrue(CalibrateCommand.dominates(faithful, unfaithful, true));
        assertFalse(CalibrateCommand.dominates(unfaithful, faithful, true));
        assertFalse(CalibrateCommand.dominates(faithful, unfaithful, false), "equal on speed and PSNR alone");
        assertTrue(CalibrateCommand.dominates(candidate(0.3, 0.25, 1.0), faithful, true), "faster, as faithful");
    }

    private static CalibrateCommand.Candidate candidate(double threshold, double fraction, double fidelity) {
        return new CalibrateCommand.Candidate("tea_cache", "rel_l1_thresh", threshold, fraction, 1 / fraction, 40, 35,
                fidelity);
    }

    private static BenchCommand.Sample sample(String setting, int prompt, List<String> prompts, BufferedImage image) {
        return new BenchCommand.Sample(4, setting, prompt, prompts.get(prompt), 1, 100, Map.of(), 1, image);
    }

    /** The caption's scene as the renderer paints it: what a perfect model would draw. */
    private static BufferedImage rendered(String caption) {
        return buffered(SceneRenderer.render(SceneCaption.parse(caption).orElseThrow(), SIDE));
    }

    /** Only the caption's background, none of its objects. */
    private static BufferedImage blank(String caption) {
        int background = SceneCaption.parse(caption).orElseThrow().background().rgb();
        BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                image.setRGB(x, y, background);
            }
        }
        return image;
    }

    private static BufferedImage buffered(RgbImage rgb) {
        BufferedImage image = new BufferedImage(rgb.width(), rgb.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < rgb.height(); y++) {
            for (int x = 0; x < rgb.width(); x++) {
                image.setRGB(x, y, rgb.get(x, y, 0) << 16 | rgb.get(x, y, 1) << 8 | rgb.get(x, y, 2));
            }
        }
        return image;
    }
}
