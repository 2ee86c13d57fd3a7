package dev.ditfn.app;

import dev.ditfn.cache.CacheSettings;
import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.engine.PipelineFactory;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.ResolvedDevice;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.QuantizedWeightCache;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads the model at startup. The device is checked synchronously (a device that cannot be initialised stops
 * startup); the model itself loads on a background thread so health probes get answers meanwhile.
 */
@ApplicationScoped
public class ModelLoader {
    private static final Logger LOG = Logger.getLogger(ModelLoader.class);

    @Inject
    DitConfig config;
    @Inject
    OrtRuntime runtime;
    @Inject
    ModelState state;

    void onStart(@Observes StartupEvent event) {
        try {
            CacheSettings.checkConfigured(CacheSettings.defaults(config.cache()));
        } catch (CacheSettings.InvalidSettingException e) {
            throw new IllegalArgumentException("invalid configuration dit.cache." + e.key() + ": " + e.getMessage(), e);
        }
        loadOptions(config); // a malformed split or quantization setting stops startup too
        ResolvedDevice device = runtime.device();
        checkQuantizationRuns(config, device);
        LOG.infof("device: %s%s", device.active(),
                device.fallbackReason().map(r -> " (fallback from " + device.requested() + ")").orElse(""));
        Thread loader = new Thread(this::load, "dit-model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        LoadedModel model = state.status().model();
        if (model != null) {
            model.close();
        }
    }

    private void load() {
        long start = System.nanoTime();
        String[] stage = {"resolving the model directory"};
        try {
            state.loading(stage[0]);
            Path dir = config.model().path().map(Path::of)
                    .orElseGet(() -> EmbeddedModel.ensure(Path.of(config.model().cacheDir())));
            stage[0] = "opening snapshot " + dir.getFileName();
            state.loading(stage[0]);
            DiffusersSnapshot snapshot = DiffusersSnapshot.open(dir);
            PipelineFactory family = ModelFamilies.forPipeline(snapshot.pipelineClass(),
                    dir.resolve("model_index.json"));
            DiffusionPipeline pipeline = family.load(snapshot, runtime, loadOptions(config), s -> {
                stage[0] = "loading the " + s;
                state.loading(stage[0]);
            });
            stage[0] = "checking the cache configuration and request defaults against the model";
            state.loading(stage[0]);
            try {
                CacheSettings.checkConfigured(CacheSettings.defaults(config.cache()), pipeline.cacheTarget());
                ServedDefaults.check(config.generate(), pipeline.requestDefaults(), pipeline.sizeMultiple());
            } catch (CacheSettings.InvalidSettingException e) {
                pipeline.close();
                throw new IllegalArgumentException("dit.cache." + e.key() + " does not fit this model: "
                        + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                pipeline.close();
                throw e;
            }
            stage[0] = "warm-up runs";
            state.loading(stage[0]);
            warmUp(pipeline);
            LoadedModel model = new LoadedModel(dir.getFileName().toString(), dir, snapshot.pipelineClass(),
                    runtime.device(), pipeline.tensorCount(), pipeline.weightBytes(),
                    Duration.ofNanos(System.nanoTime() - start), pipeline);
            state.ready(model);
            LOG.infof("model %s loaded in %d ms: %d tensors, %.1f MB, device %s", model.id(),
                    model.loadTime().toMillis(), model.tensors(), model.weightBytes() / 1e6, model.device().active());
            runtime.quantizationCache().ifPresent(c -> {
                QuantizedWeightCache.Stats s = c.stats();
                LOG.infof("quantization cache %s: %d weights read, %d written, %d rebuilt", c.dir(), s.read(),
                        s.written(), s.rebuilt());
            });
        } catch (RuntimeException | Error e) {
            LOG.errorf(e, "model loading failed while %s", stage[0]);
            state.failed(stage[0], withoutModelsFolder(e));
        }
    }

    /**
     * The error as probes and 503s show it: paths relative to the folder holding the model (so they start with the
     * model directory's name), not the server's absolute paths. The log keeps the full paths.
     */
    private String withoutModelsFolder(Throwable e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        Path model = config.model().path().map(Path::of)
                .orElseGet(() -> Path.of(config.model().cacheDir(), "model"));
        // Messages name files as the loader resolved them: absolute, or relative to the working directory.
        for (Path folder : new Path[] {model.toAbsolutePath().getParent(), model.getParent()}) {
            if (folder != null) {
                message = message.replace(folder + java.io.File.separator, "");
            }
        }
        return message;
    }

    /**
     * The sessions fixed at load: the configured DBCache split and {@code dit.cache.extra-splits}. TeaCache and
     * {@code none} need no cut. With the edit image areas.
     */
    static LoadOptions loadOptions(DitConfig config) {
        DitConfig.Cache cache = config.cache();
        Set<LoadOptions.FnBn> splits = new HashSet<>();
        splits.add(new LoadOptions.FnBn(cache.fnComputeBlocks(), cache.bnComputeBlocks()));
        for (String name : cache.extraSplits().orElse(List.of())) {
            try {
                splits.add(LoadOptions.FnBn.parse(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid configuration dit.cache.extra-splits: " + e.getMessage(), e);
            }
        }
        return new LoadOptions(splits, config.edit().vaeImageArea(), config.edit().conditionImageArea(),
                quantization(config, config.quantization()), quantization(config, config.textEncoderQuantization()),
                config.batchedGuidance());
    }

    /** Refuses a quantized component on a device without ORT's com.microsoft operators (CANN). */
    static void checkQuantizationRuns(DitConfig config, ResolvedDevice device) {
        Map<String, DitConfig.Quantization> settings = new LinkedHashMap<>();
        settings.put("dit.quantization", config.quantization());
        settings.put("dit.quantization.text-encoder", config.textEncoderQuantization());
        settings.forEach((key, setting) -> {
            if (setting != DitConfig.Quantization.NONE && !device.target().allowsContribOps()) {
                throw new IllegalArgumentException("invalid configuration " + key + "=" + setting.name()
                        .toLowerCase(java.util.Locale.ROOT) + ": quantized weights run on ORT's com.microsoft"
                        + " MatMulNBits, which device " + device.active() + " does not offer; use " + key + "=none");
            }
        });
    }

    /**
     * One component's quantization ({@code dit.quantization} or {@code dit.quantization.text-encoder}) with the
     * shared {@code dit.quantization.block-size} and {@code .accuracy-level}, checked.
     */
    public static WeightQuantization quantization(DitConfig config, DitConfig.Quantization setting) {
        int block = config.quantizationBlockSize();
        if (block != 32 && block != 64 && block != 128) {
            throw new IllegalArgumentException("invalid configuration dit.quantization.block-size=" + block
                    + ": must be 32, 64 or 128");
        }
        int level = config.quantizationAccuracyLevel();
        if (level != 0 && level != 4) {
            throw new IllegalArgumentException("invalid configuration dit.quantization.accuracy-level=" + level
                    + ": must be 0 (compute on the dequantized weights) or 4 (int8 activations)");
        }
        return setting == DitConfig.Quantization.NONE ? WeightQuantization.NONE
                : WeightQuantization.of(setting.bits(), block).withAccuracyLevel(level);
    }

    /**
     * Smallest single-step generations, uncached and through the tea_cache path (which also reads the probe): every
     * session and both ways of chaining them run once before traffic arrives.
     */
    private static void warmUp(DiffusionPipeline pipeline) {
        int side = pipeline.sizeMultiple();
        GenerationParams uncached = GenerationParams.uncached("warm-up", null, side, side, 1, 1f, 0, 1,
                ImageCodec.Format.png);
        if (pipeline.maxInputImages() > 0) {
            // an edit model's sessions (VAE encoder, vision tower) run on an input image
            uncached = uncached.withInputImages(List.of(new RgbImage(side, side, new byte[side * side * 3])));
        }
        pipeline.generate(uncached, RequestContext.unbounded());
        pipeline.generate(uncached.withCache(CacheSettings.teaCacheComputingEveryStep()), RequestContext.unbounded());
    }
}
