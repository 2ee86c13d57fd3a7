package dev.ditfn.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Weights are not copied: the store's buffers are views of the memory-mapped file, and ORT computes from those
 * pages. Shown by changing a value in the file after mapping (and after the session is made) and reading it back.
 */
class SafetensorsZeroCopyTest {

    private static final long ELEMENTS = 16L << 20; // 16 Mi floats = 64 MiB
    private static final long FILE_BYTES = ELEMENTS * 4;

    @TempDir
    Path dir;

    private static float value(long i) {
        return (float) (i % 9973) * 0.25f - 100f;
    }

    /** Writes {@code value} over float {@code index} of the file's first tensor, through the file, not a mapping. */
    private static void overwrite(Path file, long index, float value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer headerLength = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(headerLength, 0);
            long dataStart = 8 + headerLength.getLong(0);
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value), dataStart + index * 4);
        }
    }

    @Test
    void largeTensorIsAViewOfTheMappedFile() throws Exception {
        Path file = dir.resolve("big.safetensors");
        new SafetensorsWriter().add("big", DType.FLOAT32, new long[] {4096, ELEMENTS / 4096},
                SafetensorsZeroCopyTest::value).metadata("kind", "zero-copy-test").write(file);
        assertTrue(Files.size(file) > FILE_BYTES, "file holds the 64 MiB tensor");
        try (WeightStore store = WeightStore.open(dir)) {
            ByteBuffer data = store.data("big");
            assertInstanceOf(MappedByteBuffer.class, data, "a view of the file mapping");
            assertTrue(data.isDirect());
            assertEquals(FILE_BYTES, data.remaining());
            for (long i : new long[] {0, 1, 9972, 9973, ELEMENTS / 2 + 7, ELEMENTS - 1}) {
                assertEquals(value(i), data.getFloat((int) (i * 4)), "element " + i);
            }
            // a copy would keep the old values; the mapping shows what the file holds now
            overwrite(file, ELEMENTS - 1, 1234.5f);
            assertEquals(1234.5f, data.getFloat((int) (FILE_BYTES - 4)));
            assertEquals(1234.5f, store.data("big").getFloat((int) (FILE_BYTES - 4)), "a fresh view too");
        }
    }

    @Test
    void ortComputesFromTheMappedPages() throws Exception {
        try (GraphRunner r = new GraphRunner(dir, "w.safetensors").weight("w", new long[] {4},
                new float[] {1, 2, 3, 4})) {
            GraphBuilder g = r.graph(GraphTarget.CPU_FP32);
            // Add reads its weight where it lies (no prepacking), so the session's initializer is the mapped tensor
            g.output(g.add(g.input("x", DType.FLOAT32, 4), g.weight("w", 4)), "y", DType.FLOAT32, 4);
            Map<String, Input> zeros = Map.of("x", Input.of(new float[4], 4));
            try (ModelSession s = r.session(g)) {
                assertArrayEquals(new float[] {1, 2, 3, 4}, r.run(s, zeros).get("y").values());
                overwrite(r.file(), 2, 30f);
                // had ORT copied the weight when the session was made, it would still add 3
                assertArrayEquals(new float[] {1, 2, 30, 4}, r.run(s, zeros).get("y").values());
            }
        }
    }
}
