package dev.ditfn.model.zimage;

import dev.ditfn.cache.CacheSettings;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.onnx.DType;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.TestConfig;
import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Z-Image pipeline end to end on the generated zimage-tiny snapshot (random weights, real layout). */
class ZImagePipelineTest {
    @TempDir
    static Path dir;
    private static ZImagePipeline pipeline;

    @BeforeAll
    static void load() {
        ZImageSnapshot.write(dir, ZImageSnapshot.TINY, DType.FLOAT32, 7);
        pipeline = ZImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.shared(),
                new LoadOptions(Set.of(LoadOptions.FnBn.parse("F1B0"))), stage -> { });
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    private static GenerationParams params(String prompt, String negative, float scale, int steps,
            Map<String, Object> cache) {
        CacheSettings settings = CacheSettings.resolve(CacheSettings.defaults(TestConfig.defaults().cache()), cache,
                pipeline.cacheTarget(), steps);
        return new GenerationParams(prompt, negative, 64, 48, steps, scale,
                ZImagePipeline.REQUEST_DEFAULTS.cfg(scale, negative), 11, 1, ImageCodec.Format.png, settings, cache,
                false);
    }

    private static GenerationResult run(GenerationParams p) {
        return pipeline.generate(p, RequestContext.unbounded());
    }

    private static byte[] png(GenerationParams p) {
        return run(p).images().get(0).encoded();
    }

    @Test
    void drawsAnImageOfTheAskedSizeDeterministically() throws IOException {
        GenerationParams p = params("a red circle", "", 0f, 3, Map.of("backend", "none"));
        byte[] a = png(p);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(a));
        assertEquals(64, image.getWidth());
        assertEquals(48, image.getHeight());
        assertArrayEquals(a, png(p), "same seed, same bytes");
        assertFalse(Arrays.equals(a, png(params("a blue square", "", 0f, 3, Map.of("backend", "none")))),
                "the prompt reaches the image");
        assertFalse(Arrays.equals(a, png(params("a red circle", "", 2f, 3, Map.of("backend", "none")))),
                "guidance changes the image");
    }

    @Test
    void familyDefaultsAreTurbos() {
        assertEquals(8, pipeline.requestDefaults().steps());
        assertFalse(pipeline.requestDefaults().cfg(0f, ""), "guidance_scale 0: no CFG");
        assertTrue(pipeline.requestDefaults().cfg(0.5f, ""), "any scale above 0 runs CFG, as upstream");
        assertEquals(16, pipeline.sizeMultiple());
    }

    @Test
    void bothStepCachesRunAtEightStepsAndReportBothBranches() {
        GenerationParams none = params("a red circle", "", 3f, 8, Map.of("backend", "none"));
        GenerationResult uncached = run(none);
        for (Map<String, Object> cache : List.of(Map.<String, Object>of("backend", "tea_cache",
                "rel_l1_thresh", 0.6), Map.<String, Object>of("backend", "cache_dit"))) {
            GenerationResult r = run(params("a red circle", "", 3f, 8, new LinkedHashMap<>(cache)));
            Map<String, Object> report = r.cache();
            double fraction = ((Number) report.get("blocks_computed_fraction")).doubleValue();
            assertTrue(fraction > 0 && fraction <= 1, cache + ": " + report);
            assertEquals(cache.get("backend"), report.get("backend"));
            assertEquals(1, r.images().size());
            assertTrue(r.timingsMs().containsKey("denoise"));
        }
        assertEquals(1.0, ((Number) uncached.cache().get("blocks_computed_fraction")).doubleValue());
    }
}
