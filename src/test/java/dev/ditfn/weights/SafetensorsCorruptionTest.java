package dev.ditfn.weights;

import static dev.ditfn.weights.SafetensorsFixtures.assertWeightsError;
import static dev.ditfn.weights.SafetensorsFixtures.f32;
import static dev.ditfn.weights.SafetensorsFixtures.openAndClose;
import static dev.ditfn.weights.SafetensorsFixtures.rawFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every malformed file is refused with a {@link WeightsException} naming the file (and tensor, if any). */
class SafetensorsCorruptionTest {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("bad.safetensors");
    }

    /** A one-entry header for tensor {@code w} with the given JSON body of its entry. */
    private Path oneTensor(String entry, byte[] payload) {
        return rawFile(file(), "{\"w\":" + entry + "}", payload);
    }

    @Test
    void fileShorterThanEightBytes() throws IOException {
        Path f = Files.write(file(), new byte[] { 1, 2, 3, 4, 5 });
        assertWeightsError(() -> openAndClose(f), f.toString(), "5 bytes");
    }

    @Test
    void emptyFile() throws IOException {
        Path f = Files.write(file(), new byte[0]);
        assertWeightsError(() -> openAndClose(f), f.toString());
    }

    @Test
    void headerLengthLargerThanTheFile() {
        Path f = rawFile(file(), 1000, "{}", new byte[16]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "1000");
    }

    @Test
    void headerLengthHuge() {
        Path f = rawFile(file(), Long.MAX_VALUE, "{}", new byte[16]);
        assertWeightsError(() -> openAndClose(f), f.toString());
    }

    @ParameterizedTest
    @ValueSource(longs = { 0, -1, -8, Long.MIN_VALUE })
    void headerLengthZeroOrNegative(long length) {
        Path f = rawFile(file(), length, "{}", new byte[16]);
        assertWeightsError(() -> openAndClose(f), f.toString(), Long.toString(length));
    }

    @ParameterizedTest
    @ValueSource(strings = { "{not json", "{\"w\": {\"dtype\": \"F32\"", "\u0000\u0000\u0000\u0000", "}{" })
    void headerNotJson(String header) {
        Path f = rawFile(file(), header, new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = { "[1, 2, 3]", "\"a string\"", "42", "null", "        " })
    void headerJsonNotAnObject(String header) {
        Path f = rawFile(file(), header, new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"shape\":[2],\"data_offsets\":[0,8]}", // no dtype
            "{\"dtype\":\"F32\",\"data_offsets\":[0,8]}", // no shape
            "{\"dtype\":\"F32\",\"shape\":[2]}", // no data_offsets
            "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}", // one offset
            "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}", // three offsets
            "{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}", // dtype not a string
            "{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}", // shape not an array
            "42", // entry not an object
            "null" })
    void entryMissingOrMalformedFields(String entry) {
        Path f = oneTensor(entry, new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'");
    }

    @ParameterizedTest
    @ValueSource(strings = { "I64", "F64", "U8", "BOOL", "f32", "" })
    void unsupportedDtypeNamesTensorAndListsSupported(String dtype) {
        Path f = oneTensor("{\"dtype\":\"" + dtype + "\",\"shape\":[1],\"data_offsets\":[0,8]}", new byte[8]);
        WeightsException e = assertWeightsError(() -> openAndClose(f), f.toString(), "'w'", "F32", "F16", "BF16");
        if (!dtype.isEmpty()) {
            assertTrue(e.getMessage().contains(dtype), e.getMessage());
        }
    }

    @Test
    void negativeDimension() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}", new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'");
    }

    @Test
    void nonNumericDimension() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[\"two\"],\"data_offsets\":[0,8]}", new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'");
    }

    @Test
    void shapeWhoseByteSizeOverflows() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[4611686018427387904, 4],\"data_offsets\":[0,8]}",
                new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'");
    }

    @ParameterizedTest
    @ValueSource(strings = { "[0,4]", "[0,12]", "[4,8]", "[8,0]", "[-8,0]" })
    void dataOffsetsNotMatchingDtypeTimesShape(String offsets) {
        // F32 [2] needs exactly 8 bytes.
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}", new byte[16]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'");
    }

    @Test
    void sixteenBitSizeIsTwoBytesPerElement() {
        // F16 [2] is 4 bytes: offsets covering 8 (as for F32) are wrong.
        Path f = oneTensor("{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}", new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'");
    }

    @Test
    void overlappingTensors() {
        Path f = rawFile(file(), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[16]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'b'", "overlaps");
    }

    @Test
    void overlappingTensorsListedOutOfOrder() {
        Path f = rawFile(file(), "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[16]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "overlaps");
    }

    @Test
    void tensorDataPastTheEndOfAHandWrittenFile() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}", f32(1f, 2f, 3f));
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'", "truncated");
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 3, 8 })
    void validFileTruncatedByAFewBytes(int cut) throws IOException {
        Path f = file();
        new SafetensorsWriter()
                .add("first", DType.FLOAT32, new long[] { 4 }, new float[] { 1f, 2f, 3f, 4f })
                .add("last", DType.FLOAT16, new long[] { 2, 3 }, new float[] { 1f, 2f, 3f, 4f, 5f, 6f })
                .write(f);
        openAndClose(f); // intact file opens
        long size = Files.size(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(size - cut);
        }
        assertEquals(size - cut, Files.size(f));
        assertWeightsError(() -> openAndClose(f), f.toString(), "'last'", "truncated");
    }

    @Test
    void fileTruncatedInsideTheHeader() throws IOException {
        Path f = file();
        new SafetensorsWriter().add("w", DType.FLOAT32, new long[] { 2 }, new float[] { 1f, 2f }).write(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(20);
        }
        assertWeightsError(() -> openAndClose(f), f.toString());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("absent.safetensors");
        assertWeightsError(() -> openAndClose(f), f.toString());
    }

    @Test
    void missingTensorLookupOnFile() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", new byte[8]);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertWeightsError(() -> sf.spec("nope"), "'nope'", f.toString());
            assertWeightsError(() -> sf.data("nope"), "'nope'", f.toString());
        }
    }

    @Test
    void missingTensorLookupOnStore() {
        oneTensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", new byte[8]);
        try (WeightStore store = WeightStore.open(dir)) {
            assertWeightsError(() -> store.data("nope"), "'nope'", dir.toString());
            assertWeightsError(() -> store.spec("nope"), "'nope'", dir.toString());
        }
    }

    @Test
    void corruptFileInAStoreIsReportedByName() {
        Path good = dir.resolve("a.safetensors");
        new SafetensorsWriter().add("ok", DType.FLOAT32, new long[] { 1 }, new float[] { 1f }).write(good);
        Path bad = rawFile(dir.resolve("b.safetensors"), "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                new byte[8]);
        assertWeightsError(() -> WeightStore.open(dir).close(), bad.toString(), "'w'", "F64");
    }

    @Test
    void nonIntegerDimIsNotCoerced() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[2.7],\"data_offsets\":[0,8]}", new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'", "invalid shape");
    }

    @Test
    void nonIntegerOffsetsAreNotCoerced() {
        Path f = oneTensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}", new byte[8]);
        assertWeightsError(() -> openAndClose(f), f.toString(), "'w'", "non-integer data_offsets");
    }

    @Test
    void emptyTensorBesideAnotherAtTheSameOffsetIsValidInAnyOrder() {
        Path f = rawFile(file(), "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[8]);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            org.junit.jupiter.api.Assertions.assertEquals(0, sf.spec("z").elementCount());
        }
    }
}
