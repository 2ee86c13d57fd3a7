package dev.ditfn.model.zimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.cache.Branch;
import dev.ditfn.cache.CacheTarget;
import dev.ditfn.cache.StepCacheDriver;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.engine.ClassifierFreeGuidance;
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
import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig;
import dev.ditfn.model.autoencoderkl.AutoencoderKlDecoder;
import dev.ditfn.model.text.PromptTemplate;
import dev.ditfn.model.text.QwenPromptEncoder;
import dev.ditfn.model.text.Qwen3TextEncoderConfig;
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
 * Z-Image text-to-image (diffusers {@code ZImagePipeline}, zimage-edit-spec A4): Qwen3 chat template -> the text
 * encoder's {@code hidden_states[-2]} -> flow-match Euler loop over the segmented single-stream DiT under a step cache
 * (static shift 3 on {@code torch.linspace(1, 1/N, N)}, the model fed {@code t = 1 − σ}, its output negated before
 * the step; CFG {@code cond + g·(cond − uncond)} when the scale is above 0) -> {@code AutoencoderKL} decode ->
 * PNG/JPEG. Every request gets fresh latents, conditioning and cache state.
 */
public final class ZImagePipeline implements DiffusionPipeline {
    public static final String CLASS_NAME = "ZImagePipeline";
    /**
     * TeaCache's rescale polynomial, highest degree first. vLLM-Omni gives {@code ZImageTransformer2DModel} Qwen-Image's
     * coefficients (noted upstream as copied, to be tuned); no Z-Image-specific ones are published.
     */
    public static final double[] TEACACHE_COEFFICIENTS = {-450.0, 280.0, -45.0, 3.2, -0.02};
    /**
     * Z-Image-Turbo as its model card runs it: 8 steps, guidance off ({@code guidance_scale} 0); the negative prompt
     * defaults to "" (upstream), and guidance runs for any scale above 0. The base model's defaults (50 steps, 5.0)
     * are set with {@code dit.generate.default-steps} / {@code default-true-cfg-scale}.
     */
    public static final RequestDefaults REQUEST_DEFAULTS = new RequestDefaults(8, 0f, "", 0f, "guidance_scale",
            RequestDefaults.DEFAULT_SIZE);

    private final OrtRuntime runtime;
    private final DType act;
    private final QwenPromptEncoder textEncoder;
    private final ZImageTransformerConfig transformerConfig;
    private final SegmentedTransformer transformer;
    private final ZImageRope rope;
    private final AutoencoderKlConfig vaeConfig;
    private final ModelSession vae;
    private final FlowMatchEulerScheduler scheduler;
    private final PipelineParts parts;
    private final RequestDefaults requestDefaults;

    private ZImagePipeline(OrtRuntime runtime, QwenPromptEncoder textEncoder,
            ZImageTransformerConfig transformerConfig, SegmentedTransformer transformer,
            AutoencoderKlConfig vaeConfig, ModelSession vae, FlowMatchEulerScheduler scheduler, PipelineParts parts,
            RequestDefaults requestDefaults) {
        this.runtime = runtime;
        this.requestDefaults = requestDefaults;
        this.act = runtime.device().target().activationType();
        this.textEncoder = textEncoder;
        this.transformerConfig = transformerConfig;
        this.transformer = transformer;
        this.rope = new ZImageRope(transformerConfig);
        this.vaeConfig = vaeConfig;
        this.vae = vae;
        this.scheduler = scheduler;
        this.parts = parts;
    }

    /** Loads every component of {@code snapshot}; {@code stage} hears what is being loaded. */
    public static ZImagePipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage) {
        PipelineParts parts = new PipelineParts();
        try {
            stage.accept("scheduler");
            var scheduler = new FlowMatchEulerScheduler(
                    FlowMatchEulerScheduler.Config.fromJson(snapshot.config("scheduler")));
            Qwen3TextEncoderConfig textConfig = Qwen3TextEncoderConfig.fromJson(snapshot.config("text_encoder"));
            QwenPromptEncoder textEncoder = QwenPromptEncoder.load(snapshot, runtime, parts, textConfig,
                    options.textEncoderQuantization(), PromptTemplate.Z_IMAGE, stage);

            stage.accept("transformer");
            var transformerConfig = ZImageTransformerConfig.fromJson(snapshot.config("transformer"));
            if (transformerConfig.capFeatDim() != textEncoder.config().hiddenSize()) {
                throw new IllegalArgumentException("transformer cap_feat_dim " + transformerConfig.capFeatDim()
                        + " != text_encoder hidden_size " + textEncoder.config().hiddenSize());
            }
            WeightStore transformerWeights = parts.weights(snapshot.weights("transformer"));
            int blocks = transformerConfig.nLayers();
            var transformer = parts.own(new SegmentedTransformer(runtime, new ZImageTransformer(transformerConfig),
                    transformerWeights, new SegmentPartition(blocks, options.cuts(blocks)),
                    options.transformerQuantization()));

            stage.accept("vae decoder");
            AutoencoderKlConfig vaeConfig = AutoencoderKlConfig.fromJson(snapshot.config("vae"));
            if (transformerConfig.inChannels() != vaeConfig.latentChannels()) {
                throw new IllegalArgumentException("transformer in_channels " + transformerConfig.inChannels()
                        + " != vae latent_channels " + vaeConfig.latentChannels());
            }
            WeightStore vaeWeights = parts.weights(snapshot.weights("vae"));
            ModelSession vae = parts.own(runtime.createSession(
                    new AutoencoderKlDecoder(vaeConfig).build(runtime.device().target(), vaeWeights), vaeWeights));
            return new ZImagePipeline(runtime, textEncoder, transformerConfig, transformer,
                    vaeConfig, vae, scheduler, parts, REQUEST_DEFAULTS.forSnapshot(snapshot));
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
        return requestDefaults;
    }

    /** {@code vae_scale_factor · 2}: the latent is cut into 2×2 patches. */
    @Override
    public int sizeMultiple() {
        return vaeConfig.scaleFactor() * ZImageTransformerConfig.PATCH;
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

    @Override
    public GenerationResult generate(GenerationParams p, RequestContext context,
            StepCacheDriver.BlockObserver observer) {
        Stopwatch time = new Stopwatch();
        QwenPromptEncoder.Rows cond = time.run("text_encode", () -> textEncoder.encode(p.prompt()));
        QwenPromptEncoder.Rows uncond = p.cfg()
                ? time.run("text_encode", () -> textEncoder.encode(p.negativePrompt())) : null;
        return ImageBatch.run(p, context, time, transformer, observer, (seed, cache, parameters) -> {
            float[] latents = time.run("denoise", () -> denoise(p, seed, cond, uncond, cache, context, parameters));
            return time.run("decode", () -> decode(latents, p, parameters));
        });
    }

    private float[] denoise(GenerationParams p, long seed, QwenPromptEncoder.Rows cond, QwenPromptEncoder.Rows uncond, StepCacheDriver cache,
            RequestContext context, String parameters) {
        int channels = transformerConfig.inChannels();
        int h = p.height() / vaeConfig.scaleFactor();
        int w = p.width() / vaeConfig.scaleFactor();
        float[] x = Latents.noise(seed, channels, h, w);
        ZImageSequence condSeq = new ZImageSequence(channels, h, w, cond.length());
        float[] sigmas = scheduler.sigmas(FlowMatchEulerScheduler.torchLinspace(p.steps()), condSeq.imageTokens());
        Guidance guidance = uncond == null ? Guidance.NONE : new ClassifierFreeGuidance(p.trueCfgScale());
        try (var c = conditioning(condSeq, cond);
                var u = uncond == null ? null
                        : conditioning(new ZImageSequence(channels, h, w, uncond.length()), uncond)) {
            DenoisingLoop.run(x, sigmas, guidance, (branch, step, sigma, latents) -> {
                float t = modelTimestep(sigma);
                try (OnnxTensor patches = Tensors.of(runtime.env(), act, condSeq.patchify(latents), 1,
                        condSeq.paddedImageTokens(), condSeq.patchDim());
                        OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {t}, 1)) {
                    ZImageConditioning inputs = branch == Branch.cond ? c : u;
                    float[] out = condSeq.unpatchify(cache.velocity(branch, step, sigma, inputs.with(patches,
                            timestep)));
                    return velocity(out);
                }
            }, context, x0 -> decode(x0, p, parameters));
            return x;
        } catch (OrtException e) {
            throw new IllegalStateException("transformer failed: " + e.getMessage(), e);
        }
    }

    /** The scheduler's timestep is {@code 1000·σ}; the pipeline feeds the model {@code (1000 − timestep) / 1000}. */
    static float modelTimestep(float sigma) {
        return (1000f - sigma * 1000f) / 1000f;
    }

    /**
     * Z-Image predicts {@code x0 − noise}; the Euler step takes {@code noise − x0} (upstream: {@code -noise_pred}).
     * Negates {@code prediction} in place.
     */
    static float[] velocity(float[] prediction) {
        for (int i = 0; i < prediction.length; i++) {
            prediction[i] = -prediction[i];
        }
        return prediction;
    }

    private ZImageConditioning conditioning(ZImageSequence sequence, QwenPromptEncoder.Rows caption) throws OrtException {
        return new ZImageConditioning(runtime.env(), act, rope, sequence, caption.values(), textEncoder.config().hiddenSize());
    }

    private byte[] decode(float[] latents, GenerationParams p, String parameters) {
        int lh = p.height() / vaeConfig.scaleFactor();
        int lw = p.width() / vaeConfig.scaleFactor();
        try (OnnxTensor z = Tensors.of(runtime.env(), act, vaeConfig.latentsToDecoderInput(latents), 1,
                vaeConfig.latentChannels(), lh, lw);
                OrtSession.Result r = vae.run(Map.of(AutoencoderKlDecoder.INPUT, z))) {
            byte[] rgb = DecodedPixels.toRgb(Tensors.floats(r.get(0)), new long[] {1, 3, p.height(), p.width()});
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
