package dev.ditfn.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench command end to end on the tiny preset. */
class BenchCommandTest {

    @Test
    void benchWritesEveryOutput(@TempDir Path tmp) throws Exception {
        Path settings = tmp.resolve("settings.json");
        Files.writeString(settings, """
                [{"name": "none", "cache": {"backend": "none"}},
                 {"name": "tea 0.3", "cache": {"backend": "tea_cache", "rel_l1_thresh": 0.3}}]""");
        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "a small red boat\n");
        Path out = tmp.resolve("out");
        BenchCommand.Result r = BenchCommand.run("--preset", "tiny", "--steps", "2", "--size", "64x64", "--prompts",
                prompts.toString(), "--seeds", "1", "--rounds", "1", "--settings", settings.toString(), "--out",
                out.toString());
        for (String f : List.of("results.md", "results.csv", "results.json", "contact-sheet.png",
                "speed-quality.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(3, csv.size());
        assertEquals(BenchReport.CSV_HEADER, csv.get(0));
        assertTrue(csv.get(1).startsWith("2,\"none\",1,"), csv.get(1));
        assertTrue(csv.get(2).startsWith("2,\"tea 0.3\",1,"), csv.get(2));
        assertEquals(1.0, r.rows().get(0).speedup(), 1e-12);
        assertEquals(1.0, r.rows().get(0).denoiseEfficiency(), 1e-12, "none against itself");
        BenchCommand.Row tea = r.rows().get(1);
        double denoiseSpeedup = r.rows().get(0).stageMedianMs().get("denoise") / tea.stageMedianMs().get("denoise");
        assertEquals(denoiseSpeedup * tea.fraction(), tea.denoiseEfficiency(), 1e-9, "denoise speedup / ideal");
        for (BenchCommand.Row row : r.rows()) {
            Map<String, Double> ms = row.stageMedianMs();
            assertTrue(ms.get("denoise_blocks") > 0 && ms.get("denoise_blocks") < ms.get("denoise"),
                    row.setting() + ": the blocks are part of denoise " + ms);
            assertTrue(ms.get("denoise_outside_blocks") > 0, row.setting() + " " + ms);
        }
        assertEquals(Double.POSITIVE_INFINITY, r.rows().get(0).worstPsnr());
        assertTrue(r.transformer().gflop() > 0);
        assertTrue(Files.readString(out.resolve("results.md")).contains("| tea 0.3 |"));
    }

    @Test
    void benchScoresFidelityOnHeldOutCaptions(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        BenchCommand.Result r = BenchCommand.run("--preset", "tiny", "--steps", "4", "--size", "64x64",
                "--eval-captions", "2", "--seeds", "1", "--out", out.toString());
        r.rows().forEach(row -> assertEquals(2, row.fidelitySummary().count(), row.setting()));
        String json = Files.readString(out.resolve("results.json"));
        assertTrue(json.contains("\"fidelity_checks\"") && json.contains("\"no_extra_objects\""), json);
        assertTrue(Files.readString(out.resolve("results.md")).contains("SceneFidelity"));
    }
}
