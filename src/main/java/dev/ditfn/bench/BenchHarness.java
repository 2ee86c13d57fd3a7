package dev.ditfn.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.ditfn.cache.CacheSettings;
import dev.ditfn.config.Device;
import dev.ditfn.config.DitConfig;
import dev.ditfn.app.ModelFamilies;
import dev.ditfn.app.ModelLoader;
import dev.ditfn.cache.StepCacheDriver;
import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.runtime.ExecutionProviders;
import dev.ditfn.scenes.CaptionedScene;
import dev.ditfn.scenes.SceneSampler;
import dev.ditfn.scenes.SceneSplit;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code bench} and {@code calibrate} share: the model (a snapshot directory, or a preset generated once under
 * {@code target/bench-models/<preset>}), an ORT runtime on the chosen device, loaded without starting Quarkus, and
 * requests as the {@code generate} function builds them: negative prompt " " and the chosen guidance scale (4 unless
 * {@code --cfg-scale} says otherwise; whether guidance runs at that scale is the family's rule).
 */
public final class BenchHarness implements AutoCloseable {
    public static final List<String> DEFAULT_PROMPTS = List.of(
            "a watercolor fox in a snowy forest",
            "a red vintage car parked on a cobblestone street at dusk",
            "a bowl of ramen with a soft-boiled egg, studio lighting");
    public static final String NEGATIVE_PROMPT = " ";
    /** The scene sampler seed whose held-out stream {@code --eval-captions} reads (fixed, so runs compare). */
    public static final long EVAL_CAPTIONS_SEED = 1;
    public static final float DEFAULT_CFG_SCALE = 4f;

    /** Edit models' input area in bench runs (VAE and vision image): 256², the bench's default output size. */
    public static final int DEFAULT_EDIT_AREA = 256 * 256;

    private final DiffusionPipeline pipeline;
    private final float cfgScale;
    /** An edit model's input image, the same for every request; none for text-to-image. */
    private final List<RgbImage> inputs;
    private final Map<String, Object> base;
    private final String modelDescription;
    private final Device device;

    private BenchHarness(DiffusionPipeline pipeline, String modelDescription, Device device, float cfgScale) {
        this.pipeline = pipeline;
        this.cfgScale = cfgScale;
        this.inputs = pipeline.maxInputImages() > 0 ? List.of(inputImage(320, 240)) : List.of();
        this.base = CacheSettings.defaults(builtInConfig().cache());
        this.modelDescription = modelDescription;
        this.device = device;
    }

    /**
     * Loads {@code model}, or when it is null the preset (written to target/bench-models/ on first use), with
     * sessions cut for every DBCache split among the built-in defaults and {@code settings} (cache overrides).
     */
    public static BenchHarness open(Path model, String preset, Device device, Collection<Map<String, Object>> settings,
            float cfgScale, int editArea) {
        return open(model, preset, device, settings, cfgScale, editArea, Map.of());
    }

    /**
     * As {@link #open(Path, String, Device, Collection, float, int)}, with weights quantized as the served
     * {@code dit.quantization*} {@code properties} say (checked as at startup) and guidance batched as
     * {@code dit.guidance.batched} says.
     */
    public static BenchHarness open(Path model, String preset, Device device, Collection<Map<String, Object>> settings,
            float cfgScale, int editArea, Map<String, String> properties) {
        DitConfig config = config(properties);
        LoadOptions options = loadOptions(settings, editArea)
                .withTransformerQuantization(ModelLoader.quantization(config, config.quantization()))
                .withTextEncoderQuantization(ModelLoader.quantization(config, config.textEncoderQuantization()))
                .withBatchedGuidance(config.batchedGuidance());
        boolean quantized = !options.transformerQuantization().equals(WeightQuantization.NONE)
                || !options.textEncoderQuantization().equals(WeightQuantization.NONE);
        if (quantized && device == Device.cann) {
            throw new IllegalArgumentException("quantized weights run on ORT's com.microsoft MatMulNBits, which "
                    + "device cann does not offer");
        }
        Path dir = model;
        String description;
        if (dir == null) {
            dir = Path.of("target", "bench-models", preset);
            if (!Files.exists(dir.resolve("model_index.json"))) {
                System.err.println("writing the " + preset + " preset to " + dir);
                ModelFamilies.forPreset(preset).writePreset(preset, dir, DType.FLOAT32, 42);
            }
            description = "generated preset '" + preset + "' (random weights, f32)";
        } else {
            description = "snapshot " + dir.toAbsolutePath();
        }
        OrtEnvironment env = OrtRuntime.environment(0, 1, config.threads().spin());
        OrtRuntime runtime = new OrtRuntime(env, new ExecutionProviders(env, new ExecutionProviders.Settings(device, 0,
                false, Map.of(), Optional.empty(), "CANNExecutionProvider", Map.of())), true);
        DiffusersSnapshot snapshot = DiffusersSnapshot.open(dir);
        DiffusionPipeline pipeline = ModelFamilies.forPipeline(snapshot.pipelineClass(),
                dir.resolve("model_index.json")).load(snapshot, runtime, options, s -> { });
        if (quantized) {
            description += ", quantized: transformer " + describe(config.quantization(), config) + ", text encoder "
                    + describe(config.textEncoderQuantization(), config);
        }
        if (options.batchedGuidance()) {
            description += ", batched guidance";
        }
        // the pool that runs, which an earlier environment in this process may have fixed differently
        description += ", ORT threads " + OrtRuntime.poolSetting();
        return new BenchHarness(pipeline, description + ", " + pipeline.cacheTarget().blocks() + " transformer blocks, "
                + pipeline.cacheTarget().partition(), device, cfgScale);
    }

    /** The DBCache splits of the built-in default and of every cache_dit setting. */
    private static LoadOptions loadOptions(Collection<Map<String, Object>> settings, int editArea) {
        Map<String, Object> base = CacheSettings.defaults(builtInConfig().cache());
        Set<LoadOptions.FnBn> splits = new HashSet<>();
        List<Map<String, Object>> all = new ArrayList<>(settings);
        all.add(Map.of());
        for (Map<String, Object> overrides : all) {
            Map<String, Object> merged = new LinkedHashMap<>(base);
            merged.putAll(overrides);
            if (merged.get("Fn_compute_blocks") instanceof Number fn && merged.get("Bn_compute_blocks") instanceof Number bn) {
                splits.add(new LoadOptions.FnBn(fn.intValue(), bn.intValue()));
            }
        }
        return new LoadOptions(splits, editArea, editArea);
    }

    private static String describe(DitConfig.Quantization q, DitConfig config) {
        return q == DitConfig.Quantization.NONE ? "none" : q.name().toLowerCase(java.util.Locale.ROOT) + " (block "
                + config.quantizationBlockSize() + ", accuracy level " + config.quantizationAccuracyLevel() + ")";
    }

    /** The built-in {@code dit.*} defaults (no profile, no environment), as the tests see them. */
    static DitConfig builtInConfig() {
        return config(Map.of());
    }

    /** The built-in defaults with {@code properties} over them. */
    private static DitConfig config(Map<String, String> properties) {
        Map<String, String> all = new LinkedHashMap<>(properties);
        all.put("user.home", System.getProperty("user.home"));
        return new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(all, "bench", 100))
                .withMapping(DitConfig.class).build().getConfigMapping(DitConfig.class);
    }

    /**
     * The fixed input image of edit benchmarks: a colour gradient with a disc and a bar, deterministic, so that every
     * setting, run and machine edits the same picture.
     */
    static RgbImage inputImage(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                boolean disc = Math.hypot(x - w * 0.35, y - h * 0.5) < h * 0.25;
                boolean bar = x > w * 0.6 && x < w * 0.8 && y > h * 0.2 && y < h * 0.8;
                rgb[i] = (byte) (disc ? 220 : 40 + 150 * x / w);
                rgb[i + 1] = (byte) (bar ? 200 : 60 + 120 * y / h);
                rgb[i + 2] = (byte) (disc || bar ? 40 : 180);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** Whether the requests run guidance (the family's rule at the chosen scale). */
    public boolean cfg() {
        return pipeline.requestDefaults().cfg(cfgScale, NEGATIVE_PROMPT);
    }

    /** How the report names the guidance of every request. */
    public String guidance() {
        return cfg() ? String.format(java.util.Locale.ROOT, "CFG on (negative prompt \" \", scale %.1f)", cfgScale)
                : String.format(java.util.Locale.ROOT, "CFG off (scale %.1f)", cfgScale);
    }

    public DiffusionPipeline pipeline() {
        return pipeline;
    }

    public String modelDescription() {
        return modelDescription;
    }

    public Device device() {
        return device;
    }

    /** The request for one image, the cache overrides applied to the built-in defaults (checked as a request's). */
    public GenerationParams params(String prompt, long seed, int steps, int width, int height,
            Map<String, Object> cache) {
        CacheSettings settings = CacheSettings.resolve(base, cache, pipeline.cacheTarget(), steps);
        Map<String, Object> merged = new LinkedHashMap<>(base);
        merged.putAll(cache);
        return new GenerationParams(prompt, NEGATIVE_PROMPT, width, height, steps, cfgScale, cfg(), seed, 1,
                ImageCodec.Format.png,
                settings, settings.effective(merged), false).withInputImages(inputs);
    }

    public GenerationResult generate(GenerationParams p, StepCacheDriver.BlockObserver observer) {
        return pipeline.generate(p, RequestContext.unbounded(), observer);
    }

    public static BufferedImage image(GenerationResult r) {
        try {
            return ImageIO.read(new ByteArrayInputStream(r.images().get(0).encoded()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static double blocksFraction(GenerationResult r) {
        return ((Number) r.cache().get("blocks_computed_fraction")).doubleValue();
    }

    /**
     * The prompts of a run: {@code --eval-captions N} (see {@link #evalCaptions}), or the file {@code --prompts},
     * or {@link #DEFAULT_PROMPTS}; held-out captions need images SceneFidelity can score, so a square size.
     */
    static List<String> prompts(Args a, int[] size) {
        if (!a.has("eval-captions")) {
            List<String> prompts = prompts(a.path("prompts"));
            if (CaptionFidelity.anyCaption(prompts)) {
                CaptionFidelity.requireScorable(size, "scoring the caption prompts");
            }
            return prompts;
        }
        if (a.has("prompts")) {
            throw new IllegalArgumentException("--eval-captions and --prompts are mutually exclusive");
        }
        int n = a.integer("eval-captions", 0);
        if (n < 1) {
            throw new IllegalArgumentException("--eval-captions must be >= 1");
        }
        CaptionFidelity.requireScorable(size, "--eval-captions");
        return evalCaptions(n);
    }

    /**
     * The first {@code n} distinct captions of {@code new SceneSampler(EVAL_CAPTIONS_SEED).stream(SceneSplit.EVAL)}:
     * scenes the model never trained on, the same on every run.
     */
    public static List<String> evalCaptions(int n) {
        // the EVAL stream repeats no scene, and each caption states one scene
        return new SceneSampler(EVAL_CAPTIONS_SEED).stream(SceneSplit.EVAL).map(CaptionedScene::caption).limit(n)
                .toList();
    }

    public static List<String> prompts(Path file) {
        if (file == null) {
            return DEFAULT_PROMPTS;
        }
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line.strip());
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no prompts in " + file);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read prompts " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
