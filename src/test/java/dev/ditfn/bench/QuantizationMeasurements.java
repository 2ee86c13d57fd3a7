package dev.ditfn.bench;

import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.model.qwenimage.QwenImageTransformer;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Figures for {@code dit.quantization}, not a test: one quantization mode per JVM (so resident memory is that
 * mode's), {@code none} first, since the others are compared with its image. Run, one after the other:
 * {@code ./mvnw -B -o test -Dgroups=measure -Dsurefire.excludedGroups=none -Dtest=QuantizationMeasurements
 * -Dquant.mode=none} (then int8, int4; {@code -Dquant.block=32} and {@code -Dquant.accuracy=0} by default). Prints and appends to
 * {@code target/measurements/quantization.txt}: the transformer's weight bytes as the sessions are given them, the
 * process's RSS (anonymous and file-backed) after load, wall time per image with CFG (median), and the PSNR of the
 * image against fp32's.
 *
 * <p>{@code -Dquant.preset=bench} (default): the bench preset (12 blocks of width 256), 256x256, 28 steps.
 * {@code -Dquant.preset=wide}: one block at Qwen-Image's real width (24 heads of 128 = 3072, 1.36 GB of f32 block
 * weights), 128x128 (64 image tokens), 4 steps: whether MatMulNBits beats fp32 GEMM where the matrices are real-sized.
 */
@Tag("measure")
class QuantizationMeasurements {
    private static final int RUNS = 3;
    private static final Path OUT = Path.of("target", "measurements");
    /** One Qwen-Image block at the real model's width; text side and VAE as small as the bench preset's. */
    private static final QwenImageTransformerConfig WIDE_TRANSFORMER =
            new QwenImageTransformerConfig(2, 64, 16, 1, 128, 24,
                    QwenImageSnapshot.BENCH.transformer().jointAttentionDim(), new int[] {16, 56, 56}, false);
    private static final QwenImageSnapshot.Preset WIDE = new QwenImageSnapshot.Preset("wide",
            QwenImageSnapshot.BENCH.textEncoder(), WIDE_TRANSFORMER, QwenImageVaeConfig.TINY);

    @Test
    void measure() throws Exception {
        String mode = System.getProperty("quant.mode", "none");
        int block = Integer.parseInt(System.getProperty("quant.block", "32"));
        WeightQuantization q = switch (mode) {
            case "none" -> WeightQuantization.NONE;
            case "int8" -> WeightQuantization.of(8, block);
            case "int4" -> WeightQuantization.of(4, block);
            default -> throw new IllegalArgumentException("quant.mode none|int8|int4, was " + mode);
        };
        q = q.withAccuracyLevel(Integer.parseInt(System.getProperty("quant.accuracy", "0")));
        boolean wide = switch (System.getProperty("quant.preset", "bench")) {
            case "bench" -> false;
            case "wide" -> true;
            default -> throw new IllegalArgumentException("quant.preset bench|wide, was "
                    + System.getProperty("quant.preset"));
        };
        int side = wide ? 128 : 256;
        int steps = wide ? 4 : 28;
        String preset = wide ? "wide" : "bench";
        Path dir = OUT.resolve("qwen-image-" + preset);
        if (!Files.exists(dir.resolve("model_index.json"))) {
            QwenImageSnapshot.write(dir, wide ? WIDE : QwenImageSnapshot.BENCH, DType.FLOAT32, 42);
        }
        long[] before = rssKb();
        long loadStart = System.nanoTime();
        try (QwenImagePipeline p = QwenImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.shared(),
                new LoadOptions(Set.of()).withTransformerQuantization(q), s -> { })) {
            double loadMs = (System.nanoTime() - loadStart) / 1e6;
            long[] loaded = rssKb();
            GenerationParams params = GenerationParams.uncached("a watercolor fox in a snowy forest", " ", side, side,
                    steps, 4f, 1, 1, ImageCodec.Format.png);
            GenerationResult first = p.generate(params, RequestContext.unbounded());
            List<Double> wall = new ArrayList<>();
            List<Double> denoise = new ArrayList<>();
            byte[] png = first.images().get(0).encoded();
            for (int r = 0; r < RUNS; r++) {
                long t0 = System.nanoTime();
                GenerationResult res = p.generate(params, RequestContext.unbounded());
                wall.add((System.nanoTime() - t0) / 1e6);
                denoise.add(res.timingsMs().get("denoise"));
                png = res.images().get(0).encoded();
            }
            long[] after = rssKb();
            Files.createDirectories(OUT);
            Files.write(OUT.resolve("quant-" + preset + "-" + mode + ".png"), png);
            String psnr = "reference";
            Path ref = OUT.resolve("quant-" + preset + "-none.png");
            if (q.enabled() && Files.exists(ref)) {
                psnr = String.format("%.2f dB", ImageMetrics.psnr(ImageIO.read(ref.toFile()),
                        ImageIO.read(new ByteArrayInputStream(png))));
            }
            String line = String.format("%s %s: transformer weights given to ORT %.2f MiB (of %.2f MiB stored f32); load %.0f"
                    + " ms; RSS after load %.0f MiB (anon %.0f, file %.0f; +%.0f MiB over the JVM before load), after %d"
                    + " images %.0f MiB (anon %.0f, file %.0f); %dx%d, %d steps, CFG: wall %.0f ms/image (median of %d,"
                    + " denoise %.0f ms); PSNR vs fp32 %s", preset, q, transformerBytes(p, q) / 1048576.0,
                    p.transformerWeights().byteSize() / 1048576.0, loadMs, loaded[0] / 1024.0, loaded[1] / 1024.0,
                    loaded[2] / 1024.0, (loaded[0] - before[0]) / 1024.0, RUNS + 1, after[0] / 1024.0,
                    after[1] / 1024.0, after[2] / 1024.0, side, side, steps, ImageMetrics.median(wall), RUNS,
                    ImageMetrics.median(denoise), psnr);
            System.out.println(line);
            Files.writeString(OUT.resolve("quantization.txt"), Machine.describe() + " | " + line + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /** Bytes of the transformer's initializers: quantized blobs and scales plus the weights kept as stored. */
    private static long transformerBytes(QwenImagePipeline p, WeightQuantization q) {
        GraphBuilder g = new QwenImageTransformer(p.transformerConfig()).build(GraphTarget.CPU_FP32,
                p.transformerWeights(), TransformerSegment.whole(p.transformerConfig().numLayers()), q);
        long bytes = 0;
        for (String n : g.weightNames()) {
            bytes += p.transformerWeights().spec(n).byteSize();
        }
        for (GraphBuilder.QuantizedWeight w : g.quantizedWeights()) {
            long blocks = w.quantization().blocks(w.k());
            bytes += w.n() * blocks * (w.quantization().blobBytes() + w.scaleType().byteSize());
        }
        return bytes;
    }

    /** VmRSS, RssAnon, RssFile in kB. */
    private static long[] rssKb() throws IOException {
        System.gc();
        Map<String, Long> m = new java.util.HashMap<>();
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            for (String k : List.of("VmRSS:", "RssAnon:", "RssFile:")) {
                if (l.startsWith(k)) {
                    m.put(k, Long.parseLong(l.substring(k.length()).replace("kB", "").trim()));
                }
            }
        }
        return new long[] {m.getOrDefault("VmRSS:", -1L), m.getOrDefault("RssAnon:", -1L),
                m.getOrDefault("RssFile:", -1L)};
    }
}
