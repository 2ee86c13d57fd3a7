package dev.ditfn.bench;

import dev.ditfn.engine.ImageBatch;
import dev.ditfn.scenes.FidelitySummary;

import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a bench run's results.md, results.csv, results.json, contact-sheet.png and speed-quality.png. */
final class BenchReport {
    static final String CSV_HEADER = "steps,setting,images,median_ms,speedup,blocks_computed_fraction,ideal_speedup,"
            + "efficiency,denoise_efficiency,psnr_mean_db,psnr_worst_db,ssim_mean,text_encode_ms,denoise_ms,denoise_blocks_ms,denoise_outside_blocks_ms,decode_ms,peak_rss_mib,fidelity";

    private BenchReport() {
    }

    static void write(Path out, String commandLine, String model, int[] size, List<String> prompts, List<Long> seeds,
            int rounds, List<BenchSettings.Setting> settings, List<BenchCommand.Row> rows, TransformerFigures fig,
            Map<Integer, List<BenchCommand.Sample>> samples) throws IOException {
        BenchCommand.writeString(out.resolve("results.md"), markdown(commandLine, model, size, prompts, seeds, rounds,
                settings, rows, fig));
        BenchCommand.writeString(out.resolve("results.csv"), csv(rows));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", OffsetDateTime.now().toString());
        json.put("command", commandLine);
        json.put("machine", Machine.describe());
        json.put("model", model);
        json.put("size", size[0] + "x" + size[1]);
        json.put("prompts", prompts);
        json.put("seeds", seeds);
        json.put("rounds", rounds);
        Map<String, Object> s = new LinkedHashMap<>();
        settings.forEach(x -> s.put(x.name(), x.cache()));
        json.put("settings", s);
        List<Map<String, Object>> r = new ArrayList<>();
        for (BenchCommand.Row row : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("steps", row.steps());
            m.put("setting", row.setting());
            m.put("images", row.images());
            m.put("median_ms", row.medianMs());
            m.put("speedup", row.speedup());
            m.put("blocks_computed_fraction", row.fraction());
            m.put("ideal_speedup", row.ideal());
            m.put("efficiency", row.efficiency());
            m.put("denoise_efficiency", row.denoiseEfficiency());
            m.put("psnr_mean_db", finite(row.meanPsnr())); // null = identical to the uncached image (infinite)
            m.put("psnr_worst_db", finite(row.worstPsnr()));
            m.put("ssim_mean", row.meanSsim());
            m.put("stage_median_ms", row.stageMedianMs());
            m.put("peak_rss_mib", row.peakRssMib());
            m.put("fidelity", finite(row.fidelity())); // null = no prompt is a scene caption
            m.put("fidelity_checks", checks(row.fidelitySummary()));
            r.add(m);
        }
        json.put("results", r);
        if (fig != null) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("gflop", fig.gflop());
            t.put("monolithic_ms", fig.monolithicMs());
            t.put("gflops", fig.gflops());
            t.put("peak_gflops", fig.peakGflops());
            t.put("peak_basis", Machine.PEAK_BASIS);
            t.put("segment_ratio_to_monolithic", fig.segmentRatios());
            json.put("transformer_forward", t);
        }
        BenchCommand.json().writeValue(out.resolve("results.json").toFile(), json);
        Charts.writePng(Charts.contactSheet(rows, samples, prompts), out.resolve("contact-sheet.png"));
        Charts.writePng(Charts.speedQuality(rows), out.resolve("speed-quality.png"));
    }

    /** The per-check shares of SceneFidelity, null when nothing was scored. */
    private static Map<String, Object> checks(FidelitySummary f) {
        if (f == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images", f.count());
        m.put("accuracy", f.accuracy());
        m.put("background", f.background());
        m.put("colour", f.colour());
        m.put("shape", f.shape());
        m.put("size", f.size());
        m.put("position", f.position());
        m.put("no_extra_objects", f.noExtraObjects());
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    static String csv(List<BenchCommand.Row> rows) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (BenchCommand.Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%d,\"%s\",%d,%.1f,%.3f,%.4f,%.3f,%.3f,%.3f,%s,%s,%.4f,%.1f,%.1f,%.1f,%.1f,%.1f,"
                    + "%.0f,%s%n",
                    r.steps(), r.setting().replace("\"", "\"\""), r.images(), r.medianMs(), r.speedup(), r.fraction(),
                    r.ideal(), r.efficiency(), r.denoiseEfficiency(), db(r.meanPsnr()), db(r.worstPsnr()),
                    r.meanSsim(), r.stageMedianMs().get("text_encode"), r.stageMedianMs().get("denoise"),
                    r.stageMedianMs().get(ImageBatch.DENOISE_BLOCKS), r.stageMedianMs().get(BenchCommand.OUTSIDE_BLOCKS),
                    r.stageMedianMs().get("decode"), r.peakRssMib(),
                    Double.isNaN(r.fidelity()) ? "" : String.format(Locale.ROOT, "%.4f", r.fidelity())));
        }
        return sb.toString();
    }

    static String db(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "inf";
    }

    static String markdown(String commandLine, String model, int[] size, List<String> prompts, List<Long> seeds,
            int rounds, List<BenchSettings.Setting> settings, List<BenchCommand.Row> rows, TransformerFigures fig) {
        StringBuilder sb = new StringBuilder("# dit-fn bench\n\n");
        sb.append("- date: ").append(OffsetDateTime.now()).append('\n');
        sb.append("- command: `").append(commandLine).append("`\n");
        sb.append("- machine: ").append(Machine.describe()).append('\n');
        sb.append("- model: ").append(model).append('\n');
        sb.append(String.format(Locale.ROOT, "- %dx%d, %d prompts"
                + " x seeds %s x %d round(s), settings interleaved round-robin; wall time per image is the median, "
                + "speedup is against `none` in the same run; PSNR/SSIM (8-bit RGB / luma, 11x11 Gaussian) against "
                + "the uncached image of the same prompt and seed\n", size[0], size[1], prompts.size(), seeds, rounds));
        sb.append("- ").append(CaptionFidelity.DESCRIPTION).append("; — when no prompt is a caption; `--eval-captions N`"
                + " takes the first N distinct held-out captions of SceneSampler(seed ")
                .append(BenchHarness.EVAL_CAPTIONS_SEED).append(")\n");
        sb.append("- settings:");
        settings.forEach(s -> sb.append(" `").append(s.name()).append("` = ").append(s.cache()).append(';'));
        sb.append("\n\n");
        for (int steps : rows.stream().map(BenchCommand.Row::steps).distinct().toList()) {
            sb.append("## ").append(steps).append(" steps\n\n");
            sb.append(table(rows.stream().filter(r -> r.steps() == steps).toList())).append('\n');
        }
        if (fig != null) {
            sb.append("## Transformer forward\n\n");
            fig.describe().forEach(l -> sb.append("    ").append(l).append('\n'));
        }
        return sb.toString();
    }

    static String table(List<BenchCommand.Row> rows) {
        StringBuilder sb = new StringBuilder("| setting | ms/image | speedup | blocks computed | ideal | efficiency | "
                + "denoise efficiency | PSNR mean dB | PSNR worst dB | SSIM mean | fidelity | text_encode ms | denoise ms | "
                + "in blocks ms | outside blocks ms | decode ms | peak RSS MiB |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (BenchCommand.Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.2fx | %.3f | %.2fx | %.0f%% | %.0f%% | %s | %s | %.4f | %s | %.1f "
                    + "| %.0f | %.0f | %.0f | %.1f | %.0f |%n", r.setting(), r.medianMs(), r.speedup(), r.fraction(), r.ideal(),
                    100 * r.efficiency(), 100 * r.denoiseEfficiency(), db(r.meanPsnr()), db(r.worstPsnr()),
                    r.meanSsim(), CaptionFidelity.percent(r.fidelity()), r.stageMedianMs().get("text_encode"), r.stageMedianMs().get("denoise"),
                    r.stageMedianMs().get(ImageBatch.DENOISE_BLOCKS), r.stageMedianMs().get(BenchCommand.OUTSIDE_BLOCKS),
                    r.stageMedianMs().get("decode"), r.peakRssMib()));
        }
        return sb.toString();
    }

}
