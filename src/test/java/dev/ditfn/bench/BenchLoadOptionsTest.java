package dev.ditfn.bench;

import dev.ditfn.config.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench and calibrate load the model as the served dit.quantization* and dit.guidance.batched settings say. */
class BenchLoadOptionsTest {
    private static BufferedImage image(Map<String, String> properties) {
        try (BenchHarness h = BenchHarness.open(null, "tiny", Device.cpu, List.of(), 4f, BenchHarness.DEFAULT_EDIT_AREA,
                properties)) {
            return BenchHarness.image(h.generate(h.params("a small red boat", 1, 3, 64, 64,
                    Map.of("backend", "none")), null));
        }
    }

    @Test
    void quantizedWeightsMoveTheImageALittle() {
        BufferedImage full = image(Map.of());
        BufferedImage transformerInt8 = image(Map.of("dit.quantization", "int8"));
        BufferedImage textEncoderInt4 = image(Map.of("dit.quantization.text-encoder", "int4"));
        for (BufferedImage quantized : List.of(transformerInt8, textEncoderInt4)) {
            double psnr = ImageMetrics.psnr(full, quantized);
            assertTrue(psnr > 20 && psnr < Double.POSITIVE_INFINITY, "PSNR vs full precision " + psnr);
        }
        assertEquals(Double.POSITIVE_INFINITY, ImageMetrics.psnr(full, image(Map.of())), "full precision repeats");
    }

    @Test
    void theReportNamesTheQuantization(@TempDir Path tmp) throws Exception {
        String md = tinyNoneReport(tmp, "--quantization", "int4", "--quantization-block", "64");
        assertTrue(md.contains("quantized: transformer int4 (block 64, accuracy level 0), text encoder none"), md);
    }

    @Test
    void badQuantizationOptionsAreUsageErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchCommand.run("--preset", "tiny", "--quantization", "int2"));
        assertTrue(e.getMessage().contains("--quantization must be none, int8 or int4, got int2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BenchCommand.run("--preset", "tiny", "--quantization", "int8", "--quantization-block", "48"));
        assertTrue(e.getMessage().contains("dit.quantization.block-size=48"), e.getMessage());
        assertEquals(2, CalibrateCommand.main("--preset", "tiny", "--text-encoder-quantization", "fp8"));
    }

    @Test
    void batchedGuidanceIsNamedAndGivesTheSameImage(@TempDir Path tmp) throws Exception {
        double psnr = ImageMetrics.psnr(image(Map.of("dit.guidance.batched", "false")),
                image(Map.of("dit.guidance.batched", "true")));
        assertTrue(psnr > 45, "batched vs one branch at a time: PSNR " + psnr);
        String md = tinyNoneReport(tmp, "--batched-guidance", "true");
        assertTrue(md.contains(", batched guidance,"), md);
        assertUsageError("--batched-guidance", "yes", "--batched-guidance must be false or true, got yes");
    }

    @Test
    void threadSpinningIsAServedSettingAndTheReportNamesThePool(@TempDir Path tmp) throws Exception {
        String md = tinyNoneReport(tmp, "--threads-spin", "true");
        assertTrue(md.contains(", ORT threads 0/1 spinning,"), md);
        assertUsageError("--threads-spin", "sometimes", "--threads-spin must be false or true, got sometimes");
    }

    /** results.md of a 2-step bench of the tiny preset, `none` only, with {@code options} added. */
    private static String tinyNoneReport(Path tmp, String... options) throws Exception {
        Path out = tmp.resolve("out");
        Path settings = tmp.resolve("none.json");
        Files.writeString(settings, "[{\"name\": \"none\", \"cache\": {\"backend\": \"none\"}}]");
        List<String> args = new ArrayList<>(List.of("--preset", "tiny", "--steps", "2", "--size", "64x64", "--seeds",
                "1", "--settings", settings.toString(), "--out", out.toString()));
        args.addAll(List.of(options));
        BenchCommand.run(args.toArray(String[]::new));
        return Files.readString(out.resolve("results.md"));
    }

    private static void assertUsageError(String option, String value, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchCommand.run("--preset", "tiny", option, value));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
