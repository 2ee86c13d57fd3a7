package dev.ditfn.bench;

import ai.onnxruntime.OrtException;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.model.qwenimage.QwenImageTransformerRunner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The uncached transformer forward's achieved GFLOP/s against the machine's fp32 peak, and what running the same
 * forward as 2 or 3 chained segments (as the step caches do) costs against the monolithic graph.
 *
 * @param gflop matrix-product work of one forward
 * @param monolithicMs median wall time of the monolithic forward
 * @param segmentRatios per chain (including monolithic), median time over the monolithic median
 */
public record TransformerFigures(int blocks, int width, int imageTokens, int textTokens, double gflop,
        double monolithicMs, double peakGflops, Map<String, Double> segmentRatios, int runs) {

    public double gflops() {
        return gflop / (monolithicMs / 1e3);
    }

    /** Percent of {@link #peakGflops}; NaN where the peak is unknown. */
    public double percentOfPeak() {
        return peakGflops > 0 ? 100 * gflops() / peakGflops : Double.NaN;
    }

    /** Measures on random inputs of a {@code width x height} image, {@code runs} interleaved runs per chain. */
    public static TransformerFigures measure(QwenImageTransformerRunner runner, int width, int height, int runs)
            throws OrtException {
        QwenImageTransformerConfig c = runner.config();
        int h2 = height / 16;
        int w2 = width / 16;
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
        if (blocks >= 2) {
            chains.put("2 segments prologue+[0,1) [1,N)+epilogue", List.of(
                    new TransformerSegment(0, 1, true, false, false),
                    new TransformerSegment(1, blocks, false, true, false)));
        }
        if (blocks >= 3) {
            chains.put("3 segments prologue+[0,1) [1,N-1) [N-1,N)+epilogue", List.of(
                    new TransformerSegment(0, 1, true, false, false),
                    new TransformerSegment(1, blocks - 1, false, false, false),
                    new TransformerSegment(blocks - 1, blocks, false, true, false)));
        }
        Map<String, List<Double>> times = new LinkedHashMap<>();
        try (var cond = runner.condition(prompt, textLen, h2, w2)) {
            for (List<TransformerSegment> chain : chains.values()) {
                runner.forward(latents, 0.5f, cond, chain); // builds the sessions, warms up
            }
            for (int r = 0; r < runs; r++) { // interleaved so drift hits every variant alike
                for (Map.Entry<String, List<TransformerSegment>> e : chains.entrySet()) {
                    long t0 = System.nanoTime();
                    runner.forward(latents, 0.5f, cond, e.getValue());
                    times.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
                }
            }
        }
        double mono = ImageMetrics.median(times.get("monolithic"));
        Map<String, Double> ratios = new LinkedHashMap<>();
        times.forEach((k, v) -> ratios.put(k, ImageMetrics.median(v) / mono));
        return new TransformerFigures(blocks, c.innerDim(), n, textLen, forwardFlops(c, n, textLen) / 1e9, mono,
                Machine.peakGflops(), ratios, runs);
    }

    /** Multiply-adds x2 of every matrix product in one forward (norms, softmax and elementwise ops not counted). */
    public static double forwardFlops(QwenImageTransformerConfig c, int n, int l) {
        double d = c.innerDim();
        int s = n + l;
        double block = 24.0 * s * d * d + 4.0 * s * s * d + 2 * 2 * d * 6 * d;
        double prologue = 2.0 * n * c.inChannels() * d + 2.0 * l * c.jointAttentionDim() * d
                + 2 * (256 * d + d * d);
        double epilogue = 2 * d * 2 * d + 2.0 * n * d * c.outputDim();
        return c.numLayers() * block + prologue + epilogue;
    }

    /** Human-readable lines. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format("transformer forward (%d blocks, width %d, %d image + %d text tokens): %.2f GFLOP, "
                + "median %.1f ms -> %.1f GFLOP/s = %.0f%% of the assumed fp32 peak %.0f GFLOP/s (%s)", blocks, width,
                imageTokens, textTokens, gflop, monolithicMs, gflops(), percentOfPeak(), peakGflops,
                Machine.PEAK_BASIS));
        segmentRatios.forEach((k, v) -> lines.add(String.format("  %-52s ratio to monolithic %.3f (median of %d "
                + "interleaved runs)", k, v, runs)));
        return lines;
    }
}
