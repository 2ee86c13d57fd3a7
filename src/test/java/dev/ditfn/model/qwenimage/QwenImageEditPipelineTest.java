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
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Qwen-Image-Edit and Edit Plus (2511, zero_cond_t) end to end on the generated edit-tiny and edit-plus-tiny snapshots,
 * with small image areas (64² for the VAE, 48² for Edit Plus' vision image) so that a test takes a second.
 */
class QwenImageEditPipelineTest {
    @TempDir
    static Path dir;
    private static QwenImagePipeline edit;
    private static QwenImagePipeline editPlus;
    private static final LoadOptions SMALL = new LoadOptions(Set.of(new LoadOptions.FnBn(1, 0)), 64 * 64, 48 * 48);

    @BeforeAll
    static void load() {
        QwenImageSnapshot.write(dir.resolve("edit"), QwenImageSnapshot.EDIT_TINY, DType.FLOAT32, 3);
        QwenImageSnapshot.write(dir.resolve("plus"), QwenImageSnapshot.EDIT_PLUS_TINY, DType.FLOAT32, 4);
        edit = QwenImagePipeline.load(DiffusersSnapshot.open(dir.resolve("edit")), CpuRuntime.shared(), SMALL,
                QwenImageVariant.EDIT, s -> { });
        editPlus = QwenImagePipeline.load(DiffusersSnapshot.open(dir.resolve("plus")), CpuRuntime.shared(), SMALL,
                QwenImageVariant.EDIT_PLUS, s -> { });
    }

    @AfterAll
    static void close() {
        edit.close();
        editPlus.close();
    }

    static RgbImage image(int w, int h, int seed) {
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) ((i * 37 + seed * 101 + (i / (w * 3)) * 13) & 0xff);
        }
        return new RgbImage(w, h, rgb);
    }

    private static GenerationParams params(String prompt, String negative, List<RgbImage> images,
            Map<String, Object> cache) {
        CacheSettings settings = CacheSettings.resolve(CacheSettings.defaults(TestConfig.defaults().cache()), cache,
                edit.cacheTarget(), 4);
        return new GenerationParams(prompt, negative, 48, 32, 4, 4f, negative != null, 9, 1, ImageCodec.Format.png,
                settings, cache, false).withInputImages(images);
    }

    private static byte[] png(QwenImagePipeline p, GenerationParams params) {
        return p.generate(params, RequestContext.unbounded()).images().get(0).encoded();
    }

    @Test
    void editDrawsTheAskedSizeFromTheImageAndThePrompt() throws IOException {
        List<RgbImage> in = List.of(image(40, 30, 1));
        GenerationParams p = params("make it blue", null, in, Map.of("backend", "none"));
        GenerationResult r = edit.generate(p, RequestContext.unbounded());
        byte[] a = r.images().get(0).encoded();
        BufferedImage out = ImageIO.read(new ByteArrayInputStream(a));
        assertEquals(48, out.getWidth());
        assertEquals(32, out.getHeight());
        assertTrue(r.timingsMs().containsKey("image_encode"), r.timingsMs().toString());
        assertTrue(r.timingsMs().containsKey("vision_encode"), r.timingsMs().toString());
        assertArrayEquals(a, png(edit, p), "same seed, same bytes");
        assertFalse(Arrays.equals(a, png(edit, params("make it red", null, in, Map.of("backend", "none")))),
                "the instruction reaches the image");
        assertFalse(Arrays.equals(a, png(edit, params("make it blue", null, List.of(image(40, 30, 2)),
                Map.of("backend", "none")))), "the input image reaches the output");
    }

    @Test
    void editPlusTakesOneToThreeImages() {
        byte[] one = png(editPlus, params("swap them", null, List.of(image(40, 30, 1)), Map.of("backend", "none")));
        byte[] three = png(editPlus, params("swap them", null, List.of(image(40, 30, 1), image(24, 36, 2),
                image(32, 32, 3)), Map.of("backend", "none")));
        assertFalse(Arrays.equals(one, three), "every image conditions the output");
    }

    @Test
    void bothCachesRunOnEditWithBothBranches() {
        List<RgbImage> in = List.of(image(40, 30, 1));
        for (Map<String, Object> cache : List.<Map<String, Object>>of(Map.of("backend", "tea_cache",
                "rel_l1_thresh", 0.6), Map.of("backend", "cache_dit", "residual_diff_threshold", 0.5))) {
            GenerationResult r = edit.generate(params("make it blue", " ", in, cache), RequestContext.unbounded());
            @SuppressWarnings("unchecked")
            Map<String, Object> branches = (Map<String, Object>) r.cache().get("branches");
            assertEquals(Set.of("cond", "uncond"), branches.keySet(), cache + ": " + r.cache());
        }
    }
}
