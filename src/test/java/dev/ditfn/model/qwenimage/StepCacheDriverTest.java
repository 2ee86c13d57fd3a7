package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import dev.ditfn.cache.Branch;
import dev.ditfn.cache.CacheSettings;
import dev.ditfn.cache.CacheTarget;
import dev.ditfn.cache.StepCacheDriver;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The step-cache driver on the Qwen-Image DiT when a dynamic decision reuses steps: each cached velocity equals the
 * one composed by hand from the segments and the residual stored at the last computed step, and differs from the
 * uncached velocity (so a driver that never reused would fail).
 */
class StepCacheDriverTest {
    private static final QwenImageTransformerConfig CONFIG = new QwenImageTransformerConfig(2, 64, 16, 4, 32, 2, 32,
            new int[] {8, 12, 12});
    private static final int H2 = 3;
    private static final int W2 = 2;
    private static final int TEXT = 5;
    private static final int STEPS = 4;
    private static final float[] SIGMAS = {1.0f, 0.8f, 0.6f, 0.4f};

    private static QwenTestModel model;
    private static SegmentedTransformer transformer;
    private static QwenImageConditioning cond;
    private static final List<float[]> LATENTS = new ArrayList<>();

    @BeforeAll
    static void load() throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        model = new QwenTestModel(Files.createTempDirectory("driver"), CONFIG, 5);
        transformer = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG), model.store,
                new SegmentPartition(4, List.of(1)));
        Random rnd = new Random(2);
        cond = new QwenImageConditioning(runtime.env(), DType.FLOAT32, CONFIG, QwenTestModel.normal(rnd, TEXT * 32),
                TEXT, H2, W2);
        float[] x = QwenTestModel.normal(rnd, H2 * W2 * 64);
        float[] drift = QwenTestModel.normal(rnd, x.length);
        for (int s = 0; s < STEPS; s++) { // latents that move a little each step, as in denoising
            float[] xs = x.clone();
            for (int i = 0; i < xs.length; i++) {
                xs[i] += 0.05f * s * drift[i];
            }
            LATENTS.add(xs);
        }
    }

    @AfterAll
    static void close() {
        cond.close();
        transformer.close();
        model.close();
    }

    private static CacheSettings settings(Map<String, Object> overrides) {
        return CacheSettings.resolve(CacheSettings.defaults(TestConfig.defaults().cache()), overrides,
                new CacheTarget(transformer.partition(), QwenImagePipeline.TEACACHE_COEFFICIENTS), STEPS);
    }

    /** Runs {@code work} on the transformer inputs of step {@code s}. */
    private static <T> T atStep(int s, InputsWork<T> work) throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        try (OnnxTensor hidden = Tensors.of(runtime.env(), DType.FLOAT32, LATENTS.get(s), 1, H2 * W2, 64);
                OnnxTensor t = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {SIGMAS[s]}, 1)) {
            return work.apply(cond.with(hidden, t));
        }
    }

    @FunctionalInterface
    private interface InputsWork<T> {
        T apply(Map<String, OnnxTensor> inputs) throws Exception;
    }

    @FunctionalInterface
    private interface PassWork<T> {
        T apply(TransformerPass pass) throws Exception;
    }

    /** Runs {@code work} on a pass over step {@code s}'s inputs. */
    private static <T> T pass(int s, PassWork<T> work) throws Exception {
        return atStep(s, inputs -> {
            try (TransformerPass pass = transformer.pass(inputs)) {
                return work.apply(pass);
            }
        });
    }

    private static float[] velocity(StepCacheDriver driver, int s) throws Exception {
        return atStep(s, inputs -> driver.velocity(Branch.cond, s, SIGMAS[s], inputs));
    }

    private static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    private static float[] plus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    @Test
    void teaCacheReusesTheWholeBlockStacksResidualOfStepZero() throws Exception {
        // The accumulated distance stays under a huge threshold: step 0 computes ("first"), steps 1-3 reuse.
        try (StepCacheDriver driver = new StepCacheDriver(transformer, settings(Map.of("backend", "tea_cache",
                "rel_l1_thresh", 1e9)), STEPS, null)) {
            // by hand: the residual of blocks [0, 4) at step 0, per stream
            float[][] residual = pass(0, pass -> {
                pass.prologue(false);
                float[] img = pass.stream("img");
                float[] txt = pass.stream("txt");
                pass.blocks(0, 4);
                return new float[][] {minus(pass.stream("img"), img), minus(pass.stream("txt"), txt)};
            });
            for (int s = 0; s < STEPS; s++) {
                float[] got = velocity(driver, s);
                float[] uncached = pass(s, TransformerPass::forward);
                if (s == 0) {
                    assertArrayEquals(uncached, got, 1e-6f, "step 0 computes");
                    continue;
                }
                float[] expected = pass(s, pass -> {
                    pass.prologue(false);
                    pass.replaceStream("img", plus(pass.stream("img"), residual[0]));
                    pass.replaceStream("txt", plus(pass.stream("txt"), residual[1]));
                    return pass.epilogue();
                });
                assertArrayEquals(expected, got, 1e-6f, "step " + s + ": prologue + stored residual + epilogue");
                assertFalse(java.util.Arrays.equals(uncached, got), "step " + s + " was not computed");
            }
            assertEquals(List.of(0), driver.stats().computedSteps(Branch.cond));
            assertEquals(List.of(1, 2, 3), driver.stats().cachedSteps(Branch.cond));
            assertEquals((4.0 + 0) / (4 * 4), driver.stats().blocksComputedFraction(), 1e-12, "only step 0 ran blocks");
        }
    }

    @Test
    void dbCacheRunsFnAndReusesTheMiddleResidualOfTheLastComputedStep() throws Exception {
        // F1B0, one warm-up step, threshold >= 1 (always similar), no caps: step 0 computes, steps 1-3 reuse.
        StepCacheDriver driver = new StepCacheDriver(transformer, settings(Map.of("backend", "cache_dit",
                "max_warmup_steps", 1, "residual_diff_threshold", 1.5, "max_continuous_cached_steps", -1)), STEPS,
                null);
        float[][] residual = pass(0, pass -> {
            pass.prologue(false);
            pass.blocks(0, 1);
            float[] img = pass.stream("img");
            float[] txt = pass.stream("txt");
            pass.blocks(1, 4);
            return new float[][] {minus(pass.stream("img"), img), minus(pass.stream("txt"), txt)};
        });
        for (int s = 0; s < STEPS; s++) {
            float[] got = velocity(driver, s);
            float[] uncached = pass(s, TransformerPass::forward);
            if (s == 0) {
                assertArrayEquals(uncached, got, 1e-6f, "step 0 warms up");
                continue;
            }
            float[] expected = pass(s, pass -> {
                pass.prologue(false);
                pass.blocks(0, 1);
                pass.replaceStream("img", plus(pass.stream("img"), residual[0]));
                pass.replaceStream("txt", plus(pass.stream("txt"), residual[1]));
                return pass.epilogue();
            });
            assertArrayEquals(expected, got, 1e-6f, "step " + s + ": Fn blocks + stored middle residual + epilogue");
            assertFalse(java.util.Arrays.equals(uncached, got), "step " + s + " was not computed");
        }
        assertEquals(List.of(1, 2, 3), driver.stats().cachedSteps(Branch.cond));
        assertEquals((4.0 + 3 * 1) / (4 * 4), driver.stats().blocksComputedFraction(), 1e-12,
                "step 0 ran 4 blocks, each cached step block 0 only");
    }
}
