package dev.ditfn.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.cache.CacheStats;
import dev.ditfn.cache.StepCacheDriver;
import dev.ditfn.dit.SegmentedTransformer;
import org.jboss.logging.Logger;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-image part of {@code generate} that every family shares: image {@code i} gets seed {@code seed + i}, fresh
 * step-cache state (nothing survives into another image or request) and metadata that reproduces it alone; timings
 * and the cache report cover the whole request.
 */
public final class ImageBatch {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = Logger.getLogger(ImageBatch.class);
    /** Stage of {@link Stopwatch}: the wall time of the transformer's block segments, within {@code denoise}. */
    public static final String DENOISE_BLOCKS = "denoise_blocks";

    /** One image: denoise under {@code cache} from {@code seed} and encode it with {@code parameters} as metadata. */
    @FunctionalInterface
    public interface OneImage {
        byte[] make(long seed, StepCacheDriver cache, String parameters);
    }

    private ImageBatch() {
    }

    public static GenerationResult run(GenerationParams p, RequestContext context, Stopwatch time,
            SegmentedTransformer transformer, StepCacheDriver.BlockObserver observer, OneImage image) {
        List<GenerationResult.Image> images = new ArrayList<>();
        List<CacheStats> stats = new ArrayList<>();
        for (int i = 0; i < p.images(); i++) {
            long seed = p.seed() + i;
            try (var cache = new StepCacheDriver(transformer, p.cache(), p.steps(), observer,
                    (branch, step, cached) -> context.cacheDecided(branch.name(), cached))) {
                stats.add(cache.stats());
                images.add(new GenerationResult.Image(image.make(seed, cache, parametersJson(p.single(i))), seed));
                // the part of denoise a step cache can skip; the rest is per-step cost around the blocks
                time.add(DENOISE_BLOCKS, cache.blockMillis());
            }
        }
        LOG.infof("generate %dx%d, %d steps, cfg %s, cache %s: %s", p.width(), p.height(), p.steps(), p.cfg(),
                p.cache().backend(), stats.stream().map(CacheStats::summary).toList());
        return new GenerationResult(images, time.totals(), CacheReport.of(p, stats));
    }

    private static String parametersJson(GenerationParams p) {
        try {
            return JSON.writeValueAsString(p.asMap());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
