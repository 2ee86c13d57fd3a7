package dev.ditfn.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The calibrate command end to end on the tiny preset. */
class CalibrateCommandTest {

    @Test
    void calibrateWritesCoefficientsAndProfile(@TempDir Path tmp) throws Exception {
        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "a small red boat\n");
        Path out = tmp.resolve("cal");
        CalibrateCommand.Result r = CalibrateCommand.run("--preset", "tiny", "--steps", "4", "--size", "64x64",
                "--prompts", prompts.toString(), "--seeds", "1", "--tea-thresholds", "0.1,1", "--dbcache-thresholds",
                "0.1", "--min-psnr", "0", "--out", out.toString());
        assertEquals(5, r.coefficients().length);
        assertEquals(2 * 3, r.points()); // 2 branches x 3 consecutive-step pairs
        assertEquals(3, r.candidates().size());
        assertTrue(Files.readString(out.resolve("teacache_coefficients.json")).contains("dit.cache.coefficients="));
        String props = Files.readString(out.resolve("recommended.properties"));
        assertTrue(props.contains("dit.cache.backend="), props);
        assertTrue(props.contains("dit.cache.coefficients="), props);
        assertTrue(props.contains("dit.cache.rel_l1_thresh="), props);
        assertTrue(props.contains("dit.cache.residual_diff_threshold="), props);
        assertTrue(Files.exists(out.resolve("frontier.md")));
    }

    @Test
    void calibrateScoresFidelityOnHeldOutCaptions(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("cal");
        CalibrateCommand.Result r = CalibrateCommand.run("--preset", "tiny", "--steps", "4", "--size", "64x64",
                "--eval-captions", "1", "--seeds", "1", "--tea-thresholds", "0.1", "--dbcache-thresholds", "0.1",
                "--min-psnr", "0", "--max-fidelity-loss", "0.02", "--out", out.toString());
        assertTrue(!Double.isNaN(r.uncachedFidelity()));
        r.candidates().forEach(c -> assertTrue(!Double.isNaN(c.fidelity()), c.toString()));
        String frontier = Files.readString(out.resolve("frontier.md"));
        assertTrue(frontier.contains("uncached fidelity") && frontier.contains("| fidelity |"), frontier);
        assertTrue(Files.readString(out.resolve("recommended.properties")).contains("SceneFidelity"));
    }
}
