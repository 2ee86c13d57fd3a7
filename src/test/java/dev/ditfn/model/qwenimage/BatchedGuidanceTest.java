package dev.ditfn.model.qwenimage;

import dev.ditfn.cache.CacheSettings;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.onnx.DType;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.Pixels;
import dev.ditfn.testing.TestConfig;
import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dit.guidance.batched}: each snapshot is loaded twice, branch at a time and batched, and the two must give the
 * same pixels (within a level of rounding) and the same cache statistics. The negative prompt is shorter than the
 * prompt, so the batch pads and masks it (QwenImageTransformerTest checks the mask itself against single forwards).
 */
class BatchedGuidanceTest {
    @TempDir
    static Path dir;
    private static final LoadOptions SMALL = new LoadOptions(Set.of(new LoadOptions.FnBn(1, 0)), 64 * 64, 48 * 48);
    private static final List<AutoCloseable> LOADED = new ArrayList<>();
    private static QwenImagePipeline[] textToImage;
    private static QwenImagePipeline[] edit;
    private static QwenImagePipeline[] editPlus;

    @BeforeAll
    static void load() {
        textToImage = both(QwenImageSnapshot.TINY, QwenImageVariant.TEXT_TO_IMAGE, 2);
        edit = both(QwenImageSnapshot.EDIT_TINY, QwenImageVariant.EDIT, 3);
        editPlus = both(QwenImageSnapshot.EDIT_PLUS_TINY, QwenImageVariant.EDIT_PLUS, 4);
    }

    /** {unbatched, batched} pipelines of one generated snapshot. */
    private static QwenImagePipeline[] both(QwenImageSnapshot.Preset preset, QwenImageVariant variant, long seed) {
        Path snapshot = dir.resolve(preset.name());
        QwenImageSnapshot.write(snapshot, preset, DType.FLOAT32, seed);
        QwenImagePipeline[] pair = new QwenImagePipeline[2];
        for (int i = 0; i < 2; i++) {
            pair[i] = QwenImagePipeline.load(DiffusersSnapshot.open(snapshot), CpuRuntime.shared(),
                    SMALL.withBatchedGuidance(i == 1), variant, s -> { });
            LOADED.add(pair[i]);
        }
        return pair;
    }

    @AfterAll
    static void close() throws Exception {
        for (AutoCloseable p : LOADED) {
            p.close();
        }
    }

    private static GenerationParams params(QwenImagePipeline p, Map<String, Object> cache, List<RgbImage> images) {
        CacheSettings settings = CacheSettings.resolve(CacheSettings.defaults(TestConfig.defaults().cache()), cache,
                p.cacheTarget(), 4);
        return new GenerationParams("a red circle on a blue background", " ", 48, 32, 6, 4f, true, 9, 1,
                ImageCodec.Format.png, settings, cache, false).withInputImages(images);
    }

    private static void assertSame(QwenImagePipeline[] pair, Map<String, Object> cache, List<RgbImage> images) {
        GenerationResult unbatched = pair[0].generate(params(pair[0], cache, images), RequestContext.unbounded());
        GenerationResult batched = pair[1].generate(params(pair[1], cache, images), RequestContext.unbounded());
        // the padded batch sums attention over more (zero-weight) keys, so its softmax and matmul accumulate in another
        // order and may round one level apart, no more
        int most = Pixels.maxChannelDifference(unbatched.images().get(0).encoded(), batched.images().get(0).encoded());
        assertTrue(most <= 1, cache + ", " + images.size() + " input images: batched guidance moved a pixel by "
                + most + " levels");
        assertEquals(unbatched.cache(), batched.cache(), "both branches' steps recorded as one at a time would");
    }

    @Test
    void batchOfTwoBranchesGivesTheImageOfOneBranchAtATime() {
        assertSame(textToImage, Map.of("backend", "none"), List.of());
        assertSame(edit, Map.of("backend", "none"), List.of(QwenImageEditPipelineTest.image(40, 30, 1)));
        assertSame(editPlus, Map.of("backend", "none"), List.of(QwenImageEditPipelineTest.image(40, 30, 1),
                QwenImageEditPipelineTest.image(24, 36, 2)));
    }

    @Test
    void aStepCacheRunsTheBranchesOneAtATimeAndAgrees() {
        assertSame(textToImage, Map.of("backend", "tea_cache", "rel_l1_thresh", 0.6), List.of());
        assertSame(textToImage, Map.of("backend", "cache_dit"), List.of());
    }
}
