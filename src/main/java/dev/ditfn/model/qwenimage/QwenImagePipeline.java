package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.cache.Branch;
import dev.ditfn.cache.CacheTarget;
import dev.ditfn.cache.StepCacheDriver;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.engine.DecodedPixels;
import dev.ditfn.engine.DenoisingLoop;
import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.Guidance;
import dev.ditfn.engine.ImageBatch;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.Latents;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.PipelineParts;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.engine.RequestDefaults;
import dev.ditfn.engine.Stopwatch;
import dev.ditfn.engine.TrueCfg;
import dev.ditfn.model.text.PromptTemplate;
import dev.ditfn.model.text.QwenPromptEncoder;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.scheduler.FlowMatchEulerScheduler;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;

import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Qwen-Image text-to-image (diffusers {@code QwenImagePipeline}): prompt template -> Qwen2.5-VL hidden states ->
 * flow-match Euler loop over the segmented DiT under a step cache (true CFG with norm rescale when a negative prompt
 * is given) -> VAE decode -> PNG/JPEG. Every request gets fresh latents, conditioning and cache state.
 */
public final class QwenImagePipeline implements DiffusionPipeline {
    public static final String CLASS_NAME = "QwenImagePipeline";
    /**
     * TeaCache's rescale polynomial for Qwen-Image, highest degree first (vLLM-Omni's
     * {@code _MODEL_COEFFICIENTS["QwenImageTransformer2DModel"]}).
     */
    public static final double[] TEACACHE_COEFFICIENTS = {-450.0, 280.0, -45.0, 3.2, -0.02};
    /**
     * {@code QwenImagePipeline.__call__}: 50 steps, {@code true_cfg_scale} 4.0, true CFG only with a negative prompt
     * and a scale above 1.
     */
    public static final RequestDefaults REQUEST_DEFAULTS = new RequestDefaults(50, 4.0f, null, 1f);

    private final OrtRuntime runtime;
    private final DType act;
    private final QwenPromptEncoder textEncoder;
    private final QwenImageTransformerConfig transformerConfig;
    private final SegmentedTransformer transformer;
    private final QwenImageVaeConfig vaeConfig;
    private final ModelSession vae;
    private final FlowMatchEulerScheduler scheduler;
    private final PipelineParts parts;
    private final WeightStore transformerWeights;

    private QwenImagePipeline(OrtRuntime runtime, QwenPromptEncoder textEncoder,
            QwenImageTransformerConfig transformerConfig, SegmentedTransformer transformer,
            QwenImageVaeConfig vaeConfig, ModelSession vae, FlowMatchEulerScheduler scheduler, PipelineParts parts,
            WeightStore transformerWeights) {
        this.runtime = runtime;
        this.act = runtime.device().target().activationType();
        this.textEncoder = textEncoder;
        this.transformerConfig = transformerConfig;
        this.transformer = transformer;
        this.vaeConfig = vaeConfig;
        this.vae = vae;
        this.scheduler = scheduler;
        this.parts = parts;
        this.transformerWeights = transformerWeights;
    }

    /** Loads every component of {@code snapshot}; {@code stage} hears what is being loaded. */
    public static QwenImagePipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage) {
        PipelineParts parts = new PipelineParts();
        try {
            stage.accept("scheduler");
            var scheduler = new FlowMatchEulerScheduler(
                    FlowMatchEulerScheduler.Config.fromJson(snapshot.config("scheduler")));
            QwenTextEncoderConfig textConfig = QwenTextEncoderConfig.fromJson(snapshot.config("text_encoder"));
            QwenPromptEncoder textEncoder = QwenPromptEncoder.load(snapshot, runtime, parts, textConfig,
                    PromptTemplate.QWEN_IMAGE, stage);

            stage.accept("transformer");
            var transformerConfig = QwenImageTransformerConfig.fromJson(snapshot.config("transformer"));
            if (transformerConfig.jointAttentionDim() != textConfig.hiddenSize()) {
                throw new IllegalArgumentException("transformer joint_attention_dim " + transformerConfig.jointAttentionDim()
                        + " != text_encoder hidden_size " + textConfig.hiddenSize());
            }
            WeightStore transformerWeights = parts.weights(snapshot.weights("transformer"));
            int blocks = transformerConfig.numLayers();
            var transformer = parts.own(new SegmentedTransformer(runtime, new QwenImageTransformer(transformerConfig),
                    transformerWeights, new SegmentPartition(blocks, options.cuts(blocks))));

            stage.accept("vae decoder");
            QwenImageVaeConfig vaeConfig = QwenImageVaeConfig.fromJson(snapshot.config("vae"));
            if (transformerConfig.inChannels() != 4 * vaeConfig.zDim()) {
                throw new IllegalArgumentException("transformer in_channels " + transformerConfig.inChannels()
                        + " != 4 * vae z_dim " + vaeConfig.zDim());
            }
            WeightStore vaeWeights = parts.weights(snapshot.weights("vae"));
            ModelSession vae = parts.own(runtime.createSession(
                    new QwenImageVaeDecoder(vaeConfig).build(runtime.device().target(), vaeWeights), vaeWeights));
            return new QwenImagePipeline(runtime, textEncoder, transformerConfig, transformer,
                    vaeConfig, vae, scheduler, parts, transformerWeights);
        } catch (RuntimeException e) {
            parts.close();
            throw e;
        }
    }

    @Override
    public Set<Task> tasks() {
        return Set.of(Task.TEXT_TO_IMAGE);
    }

    @Override
    public RequestDefaults requestDefaults() {
        return REQUEST_DEFAULTS;
    }

    @Override
    public int sizeMultiple() {
        return 2 * vaeConfig.scaleFactor();
    }

    @Override
    public CacheTarget cacheTarget() {
        return new CacheTarget(transformer.partition(), TEACACHE_COEFFICIENTS);
    }

    @Override
    public int tensorCount() {
        return parts.tensorCount();
    }

    @Override
    public long weightBytes() {
        return parts.weightBytes();
    }

    @Override
    public int sessionCount() {
        return 2 + transformer.sessionCount();
    }

    public QwenImageTransformerConfig transformerConfig() {
        return transformerConfig;
    }

    /** The served transformer sessions (for measurements). */
    public SegmentedTransformer transformer() {
        return transformer;
    }

    /** The transformer's mapped weights (for measurements). */
    public WeightStore transformerWeights() {
        return transformerWeights;
    }

    public OrtRuntime runtime() {
        return runtime;
    }

    @Override
    public GenerationResult generate(GenerationParams p, RequestContext context,
            StepCacheDriver.BlockObserver observer) {
        Stopwatch time = new Stopwatch();
        QwenPromptEncoder.Rows cond = time.run("text_encode", () -> textEncoder.encode(p.prompt()));
        QwenPromptEncoder.Rows uncond = p.cfg()
                ? time.run("text_encode", () -> textEncoder.encode(p.negativePrompt())) : null;
        return ImageBatch.run(p, time, transformer, observer, (seed, cache, parameters) -> {
            float[] latents = time.run("denoise", () -> denoise(p, seed, cond, uncond, cache, context, parameters));
            return time.run("decode", () -> decode(latents, p, parameters));
        });
    }

    private float[] denoise(GenerationParams p, long seed, QwenPromptEncoder.Rows cond, QwenPromptEncoder.Rows uncond,
            StepCacheDriver cache, RequestContext context, String parameters) {
        Latents layout = new Latents(vaeConfig.zDim(), p.height() / vaeConfig.scaleFactor(),
                p.width() / vaeConfig.scaleFactor());
        int h2 = layout.height() / 2;
        int w2 = layout.width() / 2;
        float[] x = layout.pack(Latents.noise(seed, layout.channels(), layout.height(), layout.width()));
        float[] sigmas = scheduler.sigmas(p.steps(), layout.tokens());
        Guidance guidance = uncond == null ? Guidance.NONE : new TrueCfg(p.trueCfgScale(), layout.tokenChannels());
        try (var c = conditioning(cond, h2, w2);
                var u = uncond == null ? null : conditioning(uncond, h2, w2)) {
            DenoisingLoop.run(x, sigmas, guidance, (branch, step, sigma, latents) -> {
                // Upstream feeds t = 1000·sigma and the model divides by 1000: the fp32 round trip is kept; the
                // rounding to the activation type happens in the graph's timestep embedding.
                float t = (sigma * 1000f) / 1000f;
                try (OnnxTensor hidden = Tensors.of(runtime.env(), act, latents, 1, layout.tokens(),
                        layout.tokenChannels());
                        OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {t}, 1)) {
                    QwenImageConditioning branchInputs = branch == Branch.cond ? c : u;
                    return cache.velocity(branch, step, t, branchInputs.with(hidden, timestep));
                }
            }, context, x0 -> decode(layout.unpack(x0), p, parameters));
            return layout.unpack(x);
        } catch (OrtException e) {
            throw new IllegalStateException("transformer failed: " + e.getMessage(), e);
        }
    }

    private QwenImageConditioning conditioning(QwenPromptEncoder.Rows prompt, int h2, int w2) throws OrtException {
        return new QwenImageConditioning(runtime.env(), act, transformerConfig, prompt.values(), prompt.length(), h2,
                w2);
    }

    private byte[] decode(float[] latents, GenerationParams p, String parameters) {
        int lh = p.height() / vaeConfig.scaleFactor();
        int lw = p.width() / vaeConfig.scaleFactor();
        long[] shape = {1, vaeConfig.zDim(), lh, lw};
        float[] z = VaePixels.denormalize(latents, shape, vaeConfig);
        try (OnnxTensor zt = Tensors.of(runtime.env(), act, z, shape);
                OrtSession.Result r = vae.run(Map.of("z", zt))) {
            float[] image = Tensors.floats(r.get(0));
            byte[] rgb = DecodedPixels.toRgb(image, new long[] {1, 3, p.height(), p.width()});
            return ImageCodec.encode(ImageCodec.fromRgb(rgb, p.width(), p.height()), p.format(), p.jpegQuality(),
                    parameters);
        } catch (OrtException e) {
            throw new IllegalStateException("VAE decoder failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        parts.close();
    }
}
