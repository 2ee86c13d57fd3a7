package dev.ditfn.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @Test
    void floatsAreWrittenAsNumpyReadsThem(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.npy");
        Npy.write(f, new float[] {1.5f, -2f, 0.25f, 3f, 4f, 5f}, 2, 3);
        byte[] bytes = Files.readAllBytes(f);
        assertEquals((byte) 0x93, bytes[0]);
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.US_ASCII));
        int headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
        assertEquals(0, (10 + headerLength) % 64, "data starts 64-byte aligned");
        String header = new String(bytes, 10, headerLength, StandardCharsets.US_ASCII);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
        assertTrue(header.endsWith("\n"));
        ByteBuffer data = ByteBuffer.wrap(bytes, 10 + headerLength, 24).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1.5f, data.getFloat());
        assertEquals(-2f, data.getFloat());
        assertEquals(10 + headerLength + 24, bytes.length);
    }

    @Test
    void oneDimensionalShapesHaveNumpysTrailingComma(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ids.npy");
        Npy.write(f, new long[] {7, 8}, 2);
        String header = new String(Files.readAllBytes(f), 10, 70, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'descr': '<i8'") && header.contains("'shape': (2,)"), header);
    }

    @Test
    void aShapeThatDoesNotFitTheValuesIsRefused(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> Npy.write(dir.resolve("x.npy"), new byte[5], 2, 3));
    }
}
