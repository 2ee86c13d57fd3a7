package dev.ditfn.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.ImageCodec;
import dev.ditfn.engine.LoadOptions;
import dev.ditfn.engine.RequestContext;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.model.qwenimage.QwenImageVariant;
import dev.ditfn.model.zimage.ZImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.QuantizedWeightCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Whole pipelines of the tiny generated models loaded as the model loader does, with {@code dit.quantization.text-encoder}
 * and a quantization cache ({@code dit.quantization.cache-dir}): which weights are quantized is counted by the cache,
 * and a cached load gives the image an uncached one gives, bit for bit.
 */
class QuantizationCacheLoadTest {
    private static final WeightQuantization INT8 = WeightQuantization.of(8, 32);
    /** Two decoder layers of seven linears (q, k, v, o, gate, up, down) in both tiny text encoders. */
    private static final int TEXT_ENCODER_LINEARS = 2 * 7;
    private static final LoadOptions TEXT_ENCODER_INT8 = new LoadOptions(Set.of()).withTextEncoderQuantization(INT8);

    @TempDir
    Path models;
    @TempDir
    Path cacheDir;

    @Test
    void qwenImageQuantizesItsTextEncoderAloneWhenAsked() {
        Path dir = models.resolve("qwen");
        QwenImageSnapshot.write(dir, QwenImageSnapshot.TINY, DType.FLOAT32, 42);
        checkOnlyTheTextEncoderIsQuantized(dir);
    }

    /** The cache counts the quantized weights: the text encoder's linears and nothing else; the image changes. */
    private void checkOnlyTheTextEncoderIsQuantized(Path dir) {
        QuantizedWeightCache cache = QuantizedWeightCache.open(cacheDir);
        byte[] quantized = generate(dir, CpuRuntime.withQuantizationCache(cache), TEXT_ENCODER_INT8);
        assertEquals(new QuantizedWeightCache.Stats(0, TEXT_ENCODER_LINEARS, 0), cache.stats());
        assertFalse(Arrays.equals(generate(dir, CpuRuntime.shared(), new LoadOptions(Set.of())), quantized),
                "the quantized text encoder changes the image");
    }

    @Test
    void qwenImageEditQuantizesItsLanguageModelNotItsVisionTower() {
        Path dir = models.resolve("edit");
        QwenImageSnapshot.write(dir, QwenImageSnapshot.EDIT_TINY, DType.FLOAT32, 3);
        QuantizedWeightCache cache = QuantizedWeightCache.open(cacheDir);
        QwenImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.withQuantizationCache(cache),
                TEXT_ENCODER_INT8, QwenImageVariant.EDIT, s -> { }).close();
        assertEquals(new QuantizedWeightCache.Stats(0, TEXT_ENCODER_LINEARS, 0), cache.stats());
    }

    @Test
    void zImageQuantizesItsQwen3TextEncoderWhenAsked() {
        Path dir = models.resolve("zimage");
        ZImageSnapshot.write(dir, ZImageSnapshot.TINY, DType.FLOAT32, 7);
        checkOnlyTheTextEncoderIsQuantized(dir);
    }

    @Test
    void aSecondLoadReadsTheCacheAndADamagedEntryIsRebuiltWithTheSameImage() throws IOException {
        Path dir = models.resolve("qwen");
        QwenImageSnapshot.write(dir, QwenImageSnapshot.TINY, DType.FLOAT32, 42);
        LoadOptions both = TEXT_ENCODER_INT8.withTransformerQuantization(WeightQuantization.of(4, 32));
        byte[] uncached = generate(dir, CpuRuntime.shared(), both);

        QuantizedWeightCache first = QuantizedWeightCache.open(cacheDir);
        long t0 = System.nanoTime();
        assertArrayEquals(uncached, generate(dir, CpuRuntime.withQuantizationCache(first), both));
        long weights = first.stats().written();
        assertEquals(new QuantizedWeightCache.Stats(0, weights, 0), first.stats());
        try (Stream<Path> e = entries()) {
            assertEquals(weights, e.count());
        }

        QuantizedWeightCache second = QuantizedWeightCache.open(cacheDir);
        long t1 = System.nanoTime();
        assertArrayEquals(uncached, generate(dir, CpuRuntime.withQuantizationCache(second), both));
        long t2 = System.nanoTime();
        assertEquals(new QuantizedWeightCache.Stats(weights, 0, 0), second.stats(), "nothing quantized again");
        System.out.printf("tiny Qwen-Image, %d quantized weights: load + 1 step %d ms quantizing, %d ms from the cache%n",
                weights, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);

        try (Stream<Path> e = entries(); RandomAccessFile f = new RandomAccessFile(
                e.max(Comparator.comparing(Path::toString)).orElseThrow().toFile(), "rw")) {
            f.seek(f.length() - 1);
            int last = f.read();
            f.seek(f.length() - 1);
            f.write(last ^ 1); // a scale's bit: only the checksum can tell
        }
        QuantizedWeightCache third = QuantizedWeightCache.open(cacheDir);
        assertArrayEquals(uncached, generate(dir, CpuRuntime.withQuantizationCache(third), both),
                "the damaged entry is never served");
        assertEquals(new QuantizedWeightCache.Stats(weights - 1, 0, 1), third.stats());
    }

    /** One step of a tiny generation on the pipeline {@code dir} loads as with {@code options}; the PNG. */
    private static byte[] generate(Path dir, OrtRuntime runtime, LoadOptions options) {
        DiffusersSnapshot snapshot = DiffusersSnapshot.open(dir);
        try (DiffusionPipeline p = ModelFamilies.forPipeline(snapshot.pipelineClass(), dir.resolve("model_index.json"))
                .load(snapshot, runtime, options, s -> { })) {
            int side = 2 * p.sizeMultiple();
            return p.generate(GenerationParams.uncached("a red kite", null, side, side, 1, 1f, 5, 1,
                    ImageCodec.Format.png), RequestContext.unbounded()).images().get(0).encoded();
        }
    }

    private Stream<Path> entries() throws IOException {
        return Files.list(cacheDir);
    }
}
