package dev.ditfn.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A large tensor is mapped, not read onto the heap. */
class SafetensorsZeroCopyTest {

    private static final long ELEMENTS = 16L << 20; // 16 Mi floats = 64 MiB
    private static final long FILE_BYTES = ELEMENTS * 4;
    private static final long HEAP_BOUND = 16L << 20;

    @TempDir
    Path dir;

    private static float value(long i) {
        return (float) (i % 9973) * 0.25f - 100f;
    }

    private static long usedHeap() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    @Test
    void largeTensorIsMappedNotCopiedOntoTheHeap() throws Exception {
        Path file = dir.resolve("big.safetensors");
        long beforeWrite = usedHeap();
        new SafetensorsWriter().add("big", DType.FLOAT32, new long[] { 4096, ELEMENTS / 4096 }, SafetensorsZeroCopyTest::value)
                .metadata("kind", "heap-test")
                .write(file);
        long afterWrite = usedHeap();
        assertTrue(Files.size(file) > FILE_BYTES, "file holds the 64 MiB tensor");
        assertTrue(afterWrite - beforeWrite < HEAP_BOUND,
                "writing streamed the values: heap grew " + (afterWrite - beforeWrite) + " bytes");

        long before = usedHeap();
        try (WeightStore store = WeightStore.open(dir)) {
            ByteBuffer data = store.data("big");
            assertEquals(FILE_BYTES, data.remaining());
            assertTrue(data.isDirect());
            long[] probes = { 0, 1, 9972, 9973, ELEMENTS / 2 + 7, ELEMENTS - 1 };
            for (long i : probes) {
                assertEquals(value(i), data.getFloat((int) (i * 4)), "element " + i);
            }
            // Touch one float per page across the whole tensor: pages are faulted in, but off-heap.
            double sum = 0;
            for (long off = 0; off < FILE_BYTES; off += 4096) {
                sum += data.getFloat((int) off);
            }
            assertTrue(Double.isFinite(sum));

            long after = usedHeap();
            long grown = after - before;
            assertTrue(grown < HEAP_BOUND, "mapping a " + FILE_BYTES + "-byte tensor grew the heap by " + grown
                    + " bytes; expected far less than the file size");
            Reference.reachabilityFence(data);
        }
    }
}
