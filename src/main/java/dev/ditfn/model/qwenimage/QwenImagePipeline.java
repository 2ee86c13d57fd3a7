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
import dev.ditfn.engine.InvalidInputException;
import dev.ditfn.engine.image.EditImages;
import dev.ditfn.engine.image.ImageInputException;
import dev.ditfn.engine.image.RgbImage;
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

import java.util.ArrayList;
import java.util.List;
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
    public static final RequestDefaults REQUEST_DEFAULTS = new RequestDefaults(50, 4.0f, null, 1f, "true_cfg_scale",
            RequestDefaults.DEFAULT_SIZE);

    private final OrtRuntime runtime;
    private final DType act;
    private final QwenImageVariant variant;
    private final LoadOptions options;
    /** Text-to-image's prompt encoder; null for the Edit variants. */
    private final QwenPromptEncoder textEncoder;
    /** Edit's prompt encoder (with the vision tower) and VAE encoder; null for text-to-image. */
    private final QwenImageEditPrompt editPrompt;
    private final ModelSession vaeEncoder;
    private final QwenImageTransformerConfig transformerConfig;
    private final SegmentedTransformer transformer;
    private final QwenImageVaeConfig vaeConfig;
    private final ModelSession vae;
    private final FlowMatchEulerScheduler scheduler;
    private final PipelineParts parts;
    private final WeightStore transformerWeights;
    private final RequestDefaults requestDefaults;

    private QwenImagePipeline(OrtRuntime runtime, QwenImageVariant variant, LoadOptions options,
            QwenPromptEncoder textEncoder, QwenImageEditPrompt editPrompt, ModelSession vaeEncoder,
            QwenImageTransformerConfig transformerConfig, SegmentedTransformer transformer,
            QwenImageVaeConfig vaeConfig, ModelSession vae, FlowMatchEulerScheduler scheduler, PipelineParts parts,
            WeightStore transformerWeights, RequestDefaults requestDefaults) {
        this.runtime = runtime;
        this.requestDefaults = requestDefaults;
        this.act = runtime.device().target().activationType();
        this.variant = variant;
        this.options = options;
        this.textEncoder = textEncoder;
        this.editPrompt = editPrompt;
        this.vaeEncoder = vaeEncoder;
        this.transformerConfig = transformerConfig;
        this.transformer = transformer;
        this.vaeConfig = vaeConfig;
        this.vae = vae;
        this.scheduler = scheduler;
        this.parts = parts;
        this.transformerWeights = transformerWeights;
    }

    /** Loads a text-to-image snapshot. */
    public static QwenImagePipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            Consumer<String> stage) {
        return load(snapshot, runtime, options, QwenImageVariant.TEXT_TO_IMAGE, stage);
    }

    /** Loads every component of {@code snapshot} as {@code variant}; {@code stage} hears what is being loaded. */
    public static QwenImagePipeline load(DiffusersSnapshot snapshot, OrtRuntime runtime, LoadOptions options,
            QwenImageVariant variant, Consumer<String> stage) {
        PipelineParts parts = new PipelineParts();
        try {
            stage.accept("scheduler");
            var scheduler = new FlowMatchEulerScheduler(
                    FlowMatchEulerScheduler.Config.fromJson(snapshot.config("scheduler")));
            QwenTextEncoderConfig textConfig = QwenTextEncoderConfig.fromJson(snapshot.config("text_encoder"));
            QwenPromptEncoder textEncoder = variant.edits() ? null : QwenPromptEncoder.load(snapshot, runtime,
                    parts, textConfig, options.textEncoderQuantization(), PromptTemplate.QWEN_IMAGE, stage);
            QwenImageEditPrompt editPrompt = variant.edits() ? QwenImageEditPrompt.load(snapshot, runtime, parts,
                    variant, textConfig, options.textEncoderQuantization(), stage) : null;

            stage.accept("transformer");
            var transformerConfig = QwenImageTransformerConfig.fromJson(snapshot.config("transformer"));
            if (transformerConfig.jointAttentionDim() != textConfig.hiddenSize()) {
                throw new IllegalArgumentException("transformer joint_attention_dim " + transformerConfig.jointAttentionDim()
                        + " != text_encoder hidden_size " + textConfig.hiddenSize());
            }
            WeightStore transformerWeights = parts.weights(snapshot.weights("transformer"));
            int blocks = transformerConfig.numLayers();
            // batched guidance pads the shorter prompt, so its graphs take a text mask
            var transformer = parts.own(new SegmentedTransformer(runtime,
                    new QwenImageTransformer(transformerConfig, options.batchedGuidance()), transformerWeights,
                    new SegmentPartition(blocks, options.cuts(blocks)), options.transformerQuantization()));

            stage.accept("vae decoder");
            QwenImageVaeConfig vaeConfig = QwenImageVaeConfig.fromJson(snapshot.config("vae"));
            if (transformerConfig.inChannels() != 4 * vaeConfig.zDim()) {
                throw new IllegalArgumentException("transformer in_channels " + transformerConfig.inChannels()
                        + " != 4 * vae z_dim " + vaeConfig.zDim());
            }
            WeightStore vaeWeights = parts.weights(snapshot.weights("vae"));
            ModelSession vae = parts.own(runtime.createSession(
                    new QwenImageVaeDecoder(vaeConfig).build(runtime.device().target(), vaeWeights), vaeWeights));
            ModelSession vaeEncoder = null;
            if (variant.edits()) {
                stage.accept("vae encoder");
                vaeEncoder = parts.own(runtime.createSession(
                        new QwenImageVaeEncoder(vaeConfig).build(runtime.device().target(), vaeWeights), vaeWeights));
            }
            return new QwenImagePipeline(runtime, variant, options, textEncoder, editPrompt, vaeEncoder,
                    transformerConfig, transformer,
                    vaeConfig, vae, scheduler, parts, transformerWeights, REQUEST_DEFAULTS.forSnapshot(snapshot));
        } catch (RuntimeException e) {
            parts.close();
            throw e;
        }
    }

    @Override
    public Set<Task> tasks() {
        return Set.of(variant.task());
    }

    @Override
    public int maxInputImages() {
        return variant.maxInputImages();
    }

    @Override
    public RequestDefaults requestDefaults() {
        return requestDefaults;
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
        return (variant.edits() ? 4 : 2) + transformer.sessionCount();
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
        if (variant.edits()) {
            return edit(p, context, observer, time);
        }
        QwenPromptEncoder.Rows cond = time.run("text_encode", () -> textEncoder.encode(p.prompt()));
        QwenPromptEncoder.Rows uncond = p.cfg()
                ? time.run("text_encode", () -> textEncoder.encode(p.negativePrompt())) : null;
        return denoiseAll(p, context, observer, time, cond, uncond, ImageTokens.NONE);
    }

    private GenerationResult denoiseAll(GenerationParams p, RequestContext context,
            StepCacheDriver.BlockObserver observer, Stopwatch time, QwenPromptEncoder.Rows cond,
            QwenPromptEncoder.Rows uncond, ImageTokens images) {
        return ImageBatch.run(p, context, time, transformer, observer, (seed, cache, parameters) -> {
            float[] latents = time.run("denoise", () -> denoise(p, seed, cond, uncond, images, cache, context,
                    parameters));
            return time.run("decode", () -> decode(latents, p, parameters));
        });
    }

    /**
     * Edit's condition: the input images' packed latents, after the noise tokens in the transformer's sequence, and
     * their {@code (h2, w2)} grids (frames 1, 2, ... of {@code img_shapes}).
     */
    private record ImageTokens(float[] tokens, List<int[]> grids) {
        static final ImageTokens NONE = new ImageTokens(new float[0], List.of());

        int count(int channels) {
            return tokens.length / channels;
        }
    }

    /**
     * Qwen-Image-Edit (spec B1-B5): each input image resized for the VAE and the vision encoder, encoded by both;
     * both prompts (with the images) through the language model; then the same loop with the image tokens appended.
     */
    private GenerationResult edit(GenerationParams p, RequestContext context, StepCacheDriver.BlockObserver observer,
            Stopwatch time) {
        List<EditImages.Prepared> prepared = time.run("image_encode", () -> prepare(p.inputImages()));
        ImageTokens images = time.run("image_encode", () -> imageTokens(prepared));
        // one vision pass serves both guidance branches' prompts
        QwenImageEditPrompt.ImageEmbeds vision = time.run("vision_encode", () -> editPrompt.images(
                prepared.stream().map(EditImages.Prepared::vision).toList()));
        int maxRows = textRowsLeft(p, images);
        QwenPromptEncoder.Rows cond = time.run("text_encode", () -> editPrompt.encode("prompt", p.prompt(), vision,
                maxRows));
        QwenPromptEncoder.Rows uncond = p.cfg() ? time.run("text_encode", () -> editPrompt.encode("negative_prompt",
                p.negativePrompt(), vision, maxRows)) : null;
        return denoiseAll(p, context, observer, time, cond, uncond, images);
    }

    /** Text rows the DiT's RoPE has positions for: text starts after the largest half-grid of the images. */
    private int textRowsLeft(GenerationParams p, ImageTokens images) {
        int noiseH2 = p.height() / vaeConfig.scaleFactor() / 2;
        int noiseW2 = p.width() / vaeConfig.scaleFactor() / 2;
        int start = Math.max(noiseH2 / 2, noiseW2 / 2);
        for (int[] g : images.grids()) {
            start = Math.max(start, Math.max(g[0] / 2, g[1] / 2));
        }
        return QwenRope.MAX_POSITION - start;
    }

    /** Each input resized as the variant needs; an image that cannot be is the client's error, named by index. */
    private List<EditImages.Prepared> prepare(List<RgbImage> inputs) {
        List<EditImages.Prepared> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            RgbImage in = inputs.get(i);
            try {
                out.add(variant == QwenImageVariant.EDIT_PLUS
                        ? EditImages.editPlus(in, options.vaeImageArea(), options.conditionImageArea())
                        : EditImages.edit(in, options.vaeImageArea()));
            } catch (ImageInputException | IllegalArgumentException e) {
                throw new InvalidInputException(inputs.size() == 1 ? "image" : "images[" + i + "]",
                        "unsupported_dimensions", "the " + in.width() + "x" + in.height() + " image cannot be"
                        + " resized as the model needs: " + e.getMessage());
            }
        }
        return out;
    }

    /** Every VAE image through the VAE encoder, normalised and packed, in input order. */
    private ImageTokens imageTokens(List<EditImages.Prepared> prepared) {
        List<float[]> packed = new ArrayList<>();
        List<int[]> grids = new ArrayList<>();
        for (EditImages.Prepared im : prepared) {
            int w = im.vaeImage().width();
            int h = im.vaeImage().height();
            try (OnnxTensor pixels = Tensors.of(runtime.env(), act, im.vaeInput(), 1, 3, h, w);
                    OrtSession.Result r = vaeEncoder.run(Map.of(QwenImageVaeEncoder.INPUT, pixels))) {
                long[] shape = ((OnnxTensor) r.get(0)).getInfo().getShape();
                float[] latents = VaePixels.normalize(Tensors.floats(r.get(0)), shape, vaeConfig);
                Latents layout = new Latents(vaeConfig.zDim(), (int) shape[2], (int) shape[3]);
                packed.add(layout.pack(latents));
                grids.add(new int[] {layout.height() / 2, layout.width() / 2});
            } catch (OrtException e) {
                throw new IllegalStateException("VAE encoder failed: " + e.getMessage(), e);
            }
        }
        int n = packed.stream().mapToInt(a -> a.length).sum();
        float[] tokens = new float[n];
        int at = 0;
        for (float[] a : packed) {
            System.arraycopy(a, 0, tokens, at, a.length);
            at += a.length;
        }
        return new ImageTokens(tokens, grids);
    }

    private float[] denoise(GenerationParams p, long seed, QwenPromptEncoder.Rows cond, QwenPromptEncoder.Rows uncond,
            ImageTokens images, StepCacheDriver cache, RequestContext context, String parameters) {
        Latents layout = new Latents(vaeConfig.zDim(), p.height() / vaeConfig.scaleFactor(),
                p.width() / vaeConfig.scaleFactor());
        int h2 = layout.height() / 2;
        int w2 = layout.width() / 2;
        float[] x = layout.pack(Latents.noise(seed, layout.channels(), layout.height(), layout.width()));
        float[] sigmas = scheduler.sigmas(p.steps(), layout.tokens());
        Guidance guidance = uncond == null ? Guidance.NONE : new TrueCfg(p.trueCfgScale(), layout.tokenChannels());
        List<int[]> grids = new ArrayList<>();
        grids.add(new int[] {h2, w2});
        grids.addAll(images.grids());
        int noiseTokens = layout.tokens();
        int allTokens = noiseTokens + images.count(layout.tokenChannels());
        int channels = layout.tokenChannels();
        boolean batched = options.batchedGuidance() && uncond != null && cache.batchesBranches();
        try (var c = batched ? null : conditioning(cond, grids);
                var u = batched || uncond == null ? null : conditioning(uncond, grids);
                var both = batched ? QwenImageConditioning.batch(runtime.env(), act, transformerConfig,
                        List.of(cond.values(), uncond.values()), new int[] {cond.length(), uncond.length()}, grids)
                        : null) {
            // batched: the cond call computes both branches and keeps the uncond velocity for the uncond call
            float[][] uncondVelocity = new float[1][];
            DenoisingLoop.run(x, sigmas, guidance, (branch, step, sigma, latents) -> {
                // Upstream feeds t = 1000·sigma and the model divides by 1000: the fp32 round trip is kept; the
                // rounding to the activation type happens in the graph's timestep embedding.
                float t = (sigma * 1000f) / 1000f;
                float[] velocity;
                if (batched && branch == Branch.uncond) {
                    velocity = uncondVelocity[0];
                    uncondVelocity[0] = null;
                    if (velocity == null) {
                        throw new IllegalStateException("uncond asked for before cond at step " + step);
                    }
                } else if (batched) {
                    float[] one = withImageTokens(latents, images);
                    float[] two = java.util.Arrays.copyOf(one, 2 * one.length);
                    System.arraycopy(one, 0, two, one.length, one.length);
                    try (OnnxTensor hidden = Tensors.of(runtime.env(), act, two, 2, allTokens, channels);
                            OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {t, t}, 2)) {
                        float[][] v = cache.velocities(List.of(Branch.cond, Branch.uncond), step, t,
                                both.with(hidden, timestep));
                        uncondVelocity[0] = v[1];
                        velocity = v[0];
                    }
                } else {
                    try (OnnxTensor hidden = Tensors.of(runtime.env(), act, withImageTokens(latents, images), 1,
                            allTokens, channels);
                            OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {t}, 1)) {
                        QwenImageConditioning branchInputs = branch == Branch.cond ? c : u;
                        velocity = cache.velocity(branch, step, t, branchInputs.with(hidden, timestep));
                    }
                }
                // the prediction for the noise tokens only (upstream: noise_pred[:, :latents.size(1)])
                return velocity.length == latents.length ? velocity
                        : java.util.Arrays.copyOf(velocity, latents.length);
            }, context, x0 -> decode(layout.unpack(x0), p, parameters));
            return layout.unpack(x);
        } catch (OrtException e) {
            throw new IllegalStateException("transformer failed: " + e.getMessage(), e);
        }
    }

    /** One branch's conditioning (graphs with a text mask take one that is all 0 for a single prompt). */
    private QwenImageConditioning conditioning(QwenPromptEncoder.Rows prompt, List<int[]> grids)
            throws OrtException {
        return options.batchedGuidance()
                ? QwenImageConditioning.masked(runtime.env(), act, transformerConfig, prompt.values(),
                        prompt.length(), grids)
                : new QwenImageConditioning(runtime.env(), act, transformerConfig, prompt.values(), prompt.length(),
                        grids);
    }

    /** The model input of a step: the noise tokens, then Edit's image tokens (none for text-to-image). */
    private static float[] withImageTokens(float[] latents, ImageTokens images) {
        if (images.tokens().length == 0) {
            return latents;
        }
        float[] all = java.util.Arrays.copyOf(latents, latents.length + images.tokens().length);
        System.arraycopy(images.tokens(), 0, all, latents.length, images.tokens().length);
        return all;
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
