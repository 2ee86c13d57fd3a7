package dev.ditfn.bench;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OnnxTensor;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.model.qwenimage.QwenImageConditioning;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.model.qwenimage.QwenImageTransformer;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The uncached transformer forward's achieved GFLOP/s against the machine's fp32 peak, and what running it as the
 * served chain of segments costs against one monolithic graph.
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

    /**
     * Measures on random inputs of a {@code width x height} image, {@code runs} interleaved runs each: the served
     * chain of segments against a monolithic graph of the same weights (with the same text mask input, fed 0),
     * built here for the comparison only.
     */
    public static TransformerFigures measure(QwenImagePipeline pipeline, int width, int height, int runs)
            throws OrtException {
        QwenImageTransformerConfig c = pipeline.transformerConfig();
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
        SegmentedTransformer served = pipeline.transformer();
        OrtRuntime runtime = pipeline.runtime();
        DType act = runtime.device().target().activationType();
        String chain = "served " + served.partition();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        try (ModelSession monolithic = runtime.createSession(new QwenImageTransformer(c, true).build(
                        runtime.device().target(), pipeline.transformerWeights(),
                        TransformerSegment.whole(c.numLayers())), pipeline.transformerWeights());
                var cond = QwenImageConditioning.masked(runtime.env(), act, c, prompt, textLen,
                        List.of(new int[] {h2, w2}));
                OnnxTensor hidden = Tensors.of(runtime.env(), act, latents, 1, n, c.inChannels());
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.5f}, 1)) {
            Map<String, OnnxTensor> inputs = cond.with(hidden, timestep);
            Map<String, ForwardRun> variants = new LinkedHashMap<>();
            variants.put("monolithic", () -> {
                Map<String, OnnxTensor> feeds = new HashMap<>(inputs);
                feeds.keySet().retainAll(monolithic.session().getInputNames());
                monolithic.run(feeds).close();
            });
            variants.put(chain, () -> {
                try (TransformerPass pass = served.pass(inputs)) {
                    pass.forward();
                }
            });
            for (ForwardRun v : variants.values()) {
                v.run(); // warm-up
            }
            for (int r = 0; r < runs; r++) { // interleaved so drift hits every variant alike
                for (Map.Entry<String, ForwardRun> e : variants.entrySet()) {
                    long t0 = System.nanoTime();
                    e.getValue().run();
                    times.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
                }
            }
        }
        double mono = ImageMetrics.median(times.get("monolithic"));
        Map<String, Double> ratios = new LinkedHashMap<>();
        times.forEach((k, v) -> ratios.put(k, ImageMetrics.median(v) / mono));
        return new TransformerFigures(c.numLayers(), c.innerDim(), n, textLen, forwardFlops(c, n, textLen) / 1e9,
                mono, Machine.peakGflops(), ratios, runs);
    }

    @FunctionalInterface
    private interface ForwardRun {
        void run() throws OrtException;
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
