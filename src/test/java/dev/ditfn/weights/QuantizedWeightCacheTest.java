package dev.ditfn.weights;

import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.testing.GraphRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The on-disk cache of quantized weights: a second get reads the entry instead of quantizing, bit for bit the same; a
 * damaged entry is quantized again and replaced; the entry name changes with everything the bytes depend on.
 */
class QuantizedWeightCacheTest {
    private static final WeightQuantization INT4 = WeightQuantization.of(4, 32);

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("w.safetensors");
    @TempDir
    Path cacheDir;

    private final AtomicInteger quantized = new AtomicInteger();

    private WeightStore store() {
        Random rnd = new Random(1);
        return r.weight("a.weight", new long[] {24, 80}, uniform(rnd, 24 * 80, -0.5f, 0.5f))
                .weight("b.weight", new long[] {24, 80}, uniform(rnd, 24 * 80, -0.5f, 0.5f)).store();
    }

    /** Quantizes {@code name}, counting the calls. */
    private Supplier<BlockQuantizer.Quantized> quantize(WeightStore store, String name, WeightQuantization q,
            DType scaleType) {
        TensorSpec s = store.spec(name);
        return () -> {
            quantized.incrementAndGet();
            return BlockQuantizer.quantize(store.data(name), s.type(), s.shape()[0], s.shape()[1], q, scaleType);
        };
    }

    private BlockQuantizer.Quantized get(QuantizedWeightCache cache, WeightStore store, String name) {
        return cache.get(store.spec(name), INT4, DType.FLOAT32, quantize(store, name, INT4, DType.FLOAT32));
    }

    @Test
    void aSecondGetReadsTheEntryBitForBit() throws IOException {
        WeightStore store = store();
        QuantizedWeightCache cache = QuantizedWeightCache.open(cacheDir);
        BlockQuantizer.Quantized first = get(cache, store, "a.weight");
        assertEquals(new QuantizedWeightCache.Stats(0, 1, 0), cache.stats());

        QuantizedWeightCache restarted = QuantizedWeightCache.open(cacheDir);
        BlockQuantizer.Quantized second = get(restarted, store, "a.weight");
        assertEquals(new QuantizedWeightCache.Stats(1, 0, 0), restarted.stats());
        assertEquals(1, quantized.get(), "quantized once");
        assertSame(first, second);
        assertEquals(List.of(".qw"), entries().stream().map(p -> p.getFileName().toString().substring(64)).toList(),
                "one entry, no temporary file left");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"payload byte flipped", "header byte flipped", "truncated", "empty", "one byte appended"})
    void aDamagedEntryIsQuantizedAgainAndReplaced(String damage) throws IOException {
        WeightStore store = store();
        BlockQuantizer.Quantized fresh = get(QuantizedWeightCache.open(cacheDir), store, "a.weight");
        Path entry = entries().get(0);
        try (RandomAccessFile f = new RandomAccessFile(entry.toFile(), "rw")) {
            switch (damage) {
                case "payload byte flipped" -> flip(f, f.length() - 7);
                case "header byte flipped" -> flip(f, 9);
                case "truncated" -> f.setLength(f.length() - 16);
                case "empty" -> f.setLength(0);
                default -> {
                    f.seek(f.length());
                    f.write(0);
                }
            }
        }
        QuantizedWeightCache restarted = QuantizedWeightCache.open(cacheDir);
        assertSame(fresh, get(restarted, store, "a.weight"));
        assertEquals(new QuantizedWeightCache.Stats(0, 0, 1), restarted.stats(), "never served, rebuilt");
        assertEquals(2, quantized.get());

        QuantizedWeightCache again = QuantizedWeightCache.open(cacheDir);
        assertSame(fresh, get(again, store, "a.weight"));
        assertEquals(new QuantizedWeightCache.Stats(1, 0, 0), again.stats(), "the replaced entry is good");
        assertEquals(1, entries().size());
    }

    @Test
    void theEntryNameChangesWithEverythingTheBytesDependOn(@TempDir Path otherSnapshot) throws IOException {
        WeightStore store = store();
        TensorSpec a = store.spec("a.weight");
        String key = QuantizedWeightCache.key(a, INT4, DType.FLOAT32);
        assertEquals(key, QuantizedWeightCache.key(a, INT4.withAccuracyLevel(4), DType.FLOAT32),
                "the accuracy level does not change the stored bytes");
        assertNotEquals(key, QuantizedWeightCache.key(a, WeightQuantization.of(8, 32), DType.FLOAT32));
        assertNotEquals(key, QuantizedWeightCache.key(a, WeightQuantization.of(4, 64), DType.FLOAT32));
        assertNotEquals(key, QuantizedWeightCache.key(a, INT4, DType.FLOAT16));
        assertNotEquals(key, QuantizedWeightCache.key(store.spec("b.weight"), INT4, DType.FLOAT32));

        Files.copy(r.file(), otherSnapshot.resolve("w.safetensors"));
        try (WeightStore copy = WeightStore.open(otherSnapshot)) {
            assertNotEquals(key, QuantizedWeightCache.key(copy.spec("a.weight"), INT4, DType.FLOAT32),
                    "another snapshot or component");
        }
        Files.setLastModifiedTime(r.file(), FileTime.fromMillis(Files.getLastModifiedTime(r.file()).toMillis()
                - 60_000));
        assertNotEquals(key, QuantizedWeightCache.key(a, INT4, DType.FLOAT32), "a rewritten weight file");
    }

    @Test
    void aFolderThatCannotBeCreatedIsRefused() throws IOException {
        Path file = Files.writeString(cacheDir.resolve("a-file"), "x");
        var e = assertThrows(IllegalArgumentException.class, () -> QuantizedWeightCache.open(file.resolve("cache")));
        assertTrue(e.getMessage().contains("quantization cache folder"), e.getMessage());
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> files = Files.list(cacheDir)) {
            return files.toList();
        }
    }

    private static void flip(RandomAccessFile f, long at) throws IOException {
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x40);
    }

    private static void assertSame(BlockQuantizer.Quantized expected, BlockQuantizer.Quantized actual) {
        assertEquals(expected.packed().rewind(), actual.packed().rewind(), "packed values");
        assertEquals(expected.scales().rewind(), actual.scales().rewind(), "scales");
        assertEquals(List.of(expected.n(), expected.k(), expected.bits(), expected.blockSize(), expected.scaleType()),
                List.of(actual.n(), actual.k(), actual.bits(), actual.blockSize(), actual.scaleType()));
    }
}
