package dev.ditfn.model.qwenimage;

import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.Latents;
import dev.ditfn.engine.PromptCache;
import dev.ditfn.engine.TextToImagePipeline;
import dev.ditfn.engine.TrueCfg;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.cache.Branch;
import dev.ditfn.cache.CacheStats;
import dev.ditfn.model.qwenimage.QwenImageCachedTransformer;
import dev.ditfn.model.qwenimage.QwenImageTransformerConfig;
import dev.ditfn.model.qwenimage.QwenImageTransformerRunner;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig;
import dev.ditfn.model.qwenimage.QwenImageVaeDecoder;
import dev.ditfn.model.qwenimage.QwenPromptEncoding;
import dev.ditfn.model.text.QwenTextEncoder;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.model.text.QwenTextInputs;
import dev.ditfn.model.qwenimage.VaePixels;
import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.scheduler.FlowMatchEulerScheduler;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Qwen-Image text-to-image (diffusers {@code QwenImagePipeline}): prompt template -> Qwen2.5-VL hidden states ->
 * flow-match Euler loop over the DiT (true CFG with norm rescale when a negative prompt is given) -> VAE decode ->
 * PNG/JPEG. The loop owns no model state: every request gets fresh latents and conditioning.
 */
public final class QwenImagePipeline implements TextToImagePipeline {
    public static final String CLASS_NAME = "QwenImagePipeline";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(QwenImagePipeline.class);

    /** Prompt embeddings {@code [length, hidden]}. */
    private record PromptEmbeds(float[] values, int length) {
    }

    private final OrtRuntime runtime;
    private final DType act;
    private final ByteLevelBpeTokenizer tokenizer;
    private final QwenTextEncoderConfig textConfig;
    private final ModelSession textEncoder;
    private final QwenImageTransformerRunner transformer;
    private final QwenImageVaeConfig vaeConfig;
    private final ModelSession vae;
    private final FlowMatchEulerScheduler scheduler;
    private final List<WeightStore> stores;
    private final PromptCache<PromptEmbeds> prompts = new PromptCache<>(64);

    private QwenImagePipeline(OrtRuntime runtime, ByteLevelBpeTokenizer tokenizer, QwenTextEncoderConfig textConfig,
            ModelSession textEncoder, QwenImageTransformerRunner transformer, QwenImageVaeConfig vaeConfig,
            ModelSession vae, FlowMatchEulerScheduler scheduler, List<WeightStore> stores) {
        this.runtime = runtime;
        this.act = runtime.device().target().activationType();
        this.tokenizer = tokenizer;
        this.textConfig = textConfig;
        this.textEncoder = textEncoder;
        this.transformer = transformer;
        this.vaeConfig = vaeConfig;
        this.vae = vae;
        this.scheduler = scheduler;
        this.stores = stores;
    }

    /** Loads every component of {@code snapshot}; {@code stage} hears what is being loaded. */
    public static QwenImagePipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, Consumer<String> stage) {
        List<WeightStore> stores = new ArrayList<>();
        List<AutoCloseable> built = new ArrayList<>();
        try {
            stage.accept("tokenizer");
            ByteLevelBpeTokenizer tokenizer = ByteLevelBpeTokenizer.load(snapshot.componentDir("tokenizer"));
            stage.accept("scheduler");
            var scheduler = new FlowMatchEulerScheduler(
                    FlowMatchEulerScheduler.Config.fromJson(snapshot.config("scheduler")));

            stage.accept("text encoder");
            QwenTextEncoderConfig textConfig = QwenTextEncoderConfig.fromJson(snapshot.config("text_encoder"));
            textConfig.checkTokenizer(tokenizer);
            WeightStore textWeights = add(stores, snapshot.weights("text_encoder"));
            ModelSession textEncoder = add(built, runtime.createSession(
                    new QwenTextEncoder(textConfig).build(runtime.device().target(), textWeights), textWeights));

            stage.accept("transformer");
            var transformerConfig = QwenImageTransformerConfig.fromJson(snapshot.config("transformer"));
            if (transformerConfig.jointAttentionDim() != textConfig.hiddenSize()) {
                throw new IllegalArgumentException("transformer joint_attention_dim " + transformerConfig.jointAttentionDim()
                        + " != text_encoder hidden_size " + textConfig.hiddenSize());
            }
            WeightStore transformerWeights = add(stores, snapshot.weights("transformer"));
            var runner = add(built, new QwenImageTransformerRunner(runtime, transformerConfig, transformerWeights));
            runner.session(dev.ditfn.dit.TransformerSegment.whole(runner.blocks()));

            stage.accept("vae decoder");
            QwenImageVaeConfig vaeConfig = QwenImageVaeConfig.fromJson(snapshot.config("vae"));
            if (transformerConfig.inChannels() != 4 * vaeConfig.zDim()) {
                throw new IllegalArgumentException("transformer in_channels " + transformerConfig.inChannels()
                        + " != 4 * vae z_dim " + vaeConfig.zDim());
            }
            WeightStore vaeWeights = add(stores, snapshot.weights("vae"));
            ModelSession vae = add(built, runtime.createSession(
                    new QwenImageVaeDecoder(vaeConfig).build(runtime.device().target(), vaeWeights), vaeWeights));
            return new QwenImagePipeline(runtime, tokenizer, textConfig, textEncoder, runner, vaeConfig, vae,
                    scheduler, stores);
        } catch (RuntimeException e) {
            closeAll(built);
            stores.forEach(WeightStore::close);
            throw e;
        }
    }

    private static <T> T add(List<? super T> list, T item) {
        list.add(item);
        return item;
    }

    private static void closeAll(List<AutoCloseable> items) {
        for (AutoCloseable c : items) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort while unwinding a failed load
            }
        }
    }

    @Override
    public int sizeMultiple() {
        return 2 * vaeConfig.scaleFactor();
    }

    @Override
    public int transformerBlocks() {
        return transformer.blocks();
    }

    @Override
    public int tensorCount() {
        return stores.stream().mapToInt(w -> w.names().size()).sum();
    }

    @Override
    public long weightBytes() {
        return stores.stream().mapToLong(WeightStore::byteSize).sum();
    }

    public QwenImageTransformerRunner transformer() {
        return transformer;
    }

    @Override
    public GenerationResult generate(GenerationParams p) {
        return generate(p, null);
    }

    /** {@link #generate(GenerationParams)}, with {@code observer} (may be null) watching the tea_cache path. */
    public GenerationResult generate(GenerationParams p, QwenImageCachedTransformer.BlockObserver observer) {
        Stopwatch time = new Stopwatch();
        PromptEmbeds cond = time.run("text_encode", () -> prompts.get(p.prompt(), this::encodePrompt));
        PromptEmbeds uncond = p.cfg()
                ? time.run("text_encode", () -> prompts.get(p.negativePrompt(), this::encodePrompt)) : null;
        List<GenerationResult.Image> images = new ArrayList<>();
        List<CacheStats> stats = new ArrayList<>();
        for (int i = 0; i < p.images(); i++) {
            long seed = p.seed() + i;
            // Cache state is per image and branch, fresh each time: nothing survives into another image or request.
            var cached = new QwenImageCachedTransformer(transformer, p.cache(), p.steps(), observer);
            stats.add(cached.stats());
            float[] latents = time.run("denoise", () -> denoise(p, seed, cond, uncond, cached));
            // Each image's metadata reproduces it alone: its own seed, n = 1.
            String parameters = parametersJson(p.single(i));
            byte[] encoded = time.run("decode", () -> decode(latents, p, parameters));
            images.add(new GenerationResult.Image(encoded, seed));
        }
        Map<String, Object> cacheReport = cacheReport(p, stats);
        LOG.infof("generate %dx%d, %d steps, cfg %s, cache %s: %s", p.width(), p.height(), p.steps(), p.cfg(),
                p.cache().backend(), stats.stream().map(CacheStats::summary).toList());
        return new GenerationResult(images, time.totals(), cacheReport);
    }

    /** The response's {@code cache} object: settings, then what happened (per image when there are several). */
    private static Map<String, Object> cacheReport(GenerationParams p, List<CacheStats> stats) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("backend", p.cache().backend());
        report.put("config", p.cacheConfig());
        if (stats.size() == 1) {
            report.putAll(stats.get(0).toMap(p.trace()));
        } else {
            long run = stats.stream().mapToLong(CacheStats::blocksRun).sum();
            long all = stats.stream().mapToLong(CacheStats::blocksUncached).sum();
            report.put("blocks_computed_fraction", (double) run / all);
            List<Map<String, Object>> perImage = new ArrayList<>();
            for (int i = 0; i < stats.size(); i++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("seed", p.seed() + i);
                m.putAll(stats.get(i).toMap(p.trace()));
                perImage.add(m);
            }
            report.put("images", perImage);
        }
        return report;
    }

    private static String parametersJson(GenerationParams p) {
        try {
            return JSON.writeValueAsString(p.asMap());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PromptEmbeds encodePrompt(String prompt) {
        long[] ids = QwenPromptEncoding.templateIds(tokenizer, prompt);
        int len = ids.length;
        long[] mask = new long[len];
        java.util.Arrays.fill(mask, 1L);
        QwenTextInputs.Rope rope = QwenTextInputs.rope(len, textConfig.headDim(), textConfig.ropeTheta());
        float[] bias = QwenTextInputs.attentionBias(mask, 1, len);
        try (OnnxTensor idTensor = Tensors.longs(runtime.env(), ids, 1, len);
                OnnxTensor cos = Tensors.of(runtime.env(), DType.FLOAT32, rope.cos(), len, textConfig.headDim());
                OnnxTensor sin = Tensors.of(runtime.env(), DType.FLOAT32, rope.sin(), len, textConfig.headDim());
                OnnxTensor biasTensor = Tensors.of(runtime.env(), DType.FLOAT32, bias, 1, 1, len, len);
                OrtSession.Result r = textEncoder.run(Map.of(QwenTextEncoder.INPUT_IDS, idTensor,
                        QwenTextEncoder.COS, cos, QwenTextEncoder.SIN, sin, QwenTextEncoder.ATTENTION_BIAS, biasTensor))) {
            float[] hidden = Tensors.floats(r.get(0));
            float[] selected = QwenPromptEncoding.select(hidden, mask, textConfig.hiddenSize(),
                    QwenPromptEncoding.DEFAULT_MAX_SEQUENCE_LENGTH);
            return new PromptEmbeds(selected, selected.length / textConfig.hiddenSize());
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder failed: " + e.getMessage(), e);
        }
    }

    private float[] denoise(GenerationParams p, long seed, PromptEmbeds cond, PromptEmbeds uncond,
            QwenImageCachedTransformer cached) {
        int channels = vaeConfig.zDim();
        int lh = p.height() / vaeConfig.scaleFactor();
        int lw = p.width() / vaeConfig.scaleFactor();
        int h2 = lh / 2;
        int w2 = lw / 2;
        float[] x = Latents.pack(Latents.noise(seed, channels, lh, lw), channels, lh, lw);
        float[] sigmas = scheduler.sigmas(p.steps(), h2 * w2);
        try (var c = transformer.condition(cond.values(), cond.length(), h2, w2);
                var u = uncond == null ? null : transformer.condition(uncond.values(), uncond.length(), h2, w2)) {
            for (int i = 0; i < p.steps(); i++) {
                // The pipeline feeds t = 1000·sigma cast to the latents' dtype, and the model divides by 1000.
                float sigma = (sigmas[i] * 1000f) / 1000f;
                float[] v = cached.forward(Branch.cond, i, sigma, x, c);
                if (u != null) {
                    v = TrueCfg.combine(v, cached.forward(Branch.uncond, i, sigma, x, u), p.trueCfgScale(),
                            4 * channels);
                }
                FlowMatchEulerScheduler.step(x, v, sigmas[i], sigmas[i + 1]);
            }
            return Latents.unpack(x, channels, lh, lw);
        } catch (OrtException e) {
            throw new IllegalStateException("transformer failed: " + e.getMessage(), e);
        }
    }

    private byte[] decode(float[] latents, GenerationParams p, String parameters) {
        int lh = p.height() / vaeConfig.scaleFactor();
        int lw = p.width() / vaeConfig.scaleFactor();
        long[] shape = {1, vaeConfig.zDim(), lh, lw};
        float[] z = VaePixels.denormalize(latents, shape, vaeConfig);
        try (OnnxTensor zt = Tensors.of(runtime.env(), act, z, shape);
                OrtSession.Result r = vae.run(Map.of("z", zt))) {
            float[] image = Tensors.floats(r.get(0));
            byte[] rgb = VaePixels.toRgb(image, new long[] {1, 3, p.height(), p.width()});
            return ImageCodec.encode(ImageCodec.fromRgb(rgb, p.width(), p.height()), p.format(), parameters);
        } catch (OrtException e) {
            throw new IllegalStateException("VAE decoder failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        transformer.close();
        textEncoder.close();
        vae.close();
        stores.forEach(WeightStore::close);
    }

    /** Wall time per named stage, summed over calls. */
    private static final class Stopwatch {
        private final Map<String, Double> totals = new LinkedHashMap<>();
        private final long start = System.nanoTime();

        <T> T run(String stage, java.util.function.Supplier<T> work) {
            long t0 = System.nanoTime();
            try {
                return work.get();
            } finally {
                totals.merge(stage, (System.nanoTime() - t0) / 1e6, Double::sum);
            }
        }

        Map<String, Double> totals() {
            totals.put("total", (System.nanoTime() - start) / 1e6);
            return totals;
        }
    }
}
