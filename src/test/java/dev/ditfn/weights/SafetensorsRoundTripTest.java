package dev.ditfn.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.platform.Fp16Conversions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.TensorSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes F32/F16/BF16 tensors with {@link SafetensorsWriter} and reads them back. */
class SafetensorsRoundTripTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A tensor written by the test: name, type, shape and the float values handed to the writer. */
    private record Written(String name, DType type, long[] shape, float[] values) {
        long byteSize() {
            return (long) values.length * type.byteSize();
        }
    }

    @TempDir
    Path dir;

    private final List<Written> tensors = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private Path file;

    @BeforeEach
    void writeFile() {
        float[] matrix = new float[2 * 3 * 4];
        for (int i = 0; i < matrix.length; i++) {
            matrix[i] = (i - 11) * 0.37f;
        }
        matrix[0] = -0.0f;
        matrix[1] = Float.MIN_VALUE;
        matrix[2] = Float.MAX_VALUE;
        matrix[3] = Float.NEGATIVE_INFINITY;
        matrix[4] = Float.NaN;
        float[] awkward = { 1f / 3f, -2.5f, 65504f, 70000f, 1e-5f, 1e-8f, 0.1f, -0f };
        tensors.add(new Written("blocks.0.attn.to_q.weight", DType.FLOAT32, new long[] { 2, 3, 4 }, matrix));
        tensors.add(new Written("scalar.f32", DType.FLOAT32, new long[] {}, new float[] { 3.25f }));
        tensors.add(new Written("vec.f16", DType.FLOAT16, new long[] { awkward.length }, awkward));
        tensors.add(new Written("cube.bf16", DType.BFLOAT16, new long[] { 2, 2, 2 },
                new float[] { 1f / 3f, -2.5f, 3e38f, 1e-30f, 0.1f, 123.456f, -7f, 1f }));
        tensors.add(new Written("scalar.bf16", DType.BFLOAT16, new long[] {}, new float[] { -0.7f }));
        tensors.add(new Written("empty.f32", DType.FLOAT32, new long[] { 0, 3 }, new float[0]));
        tensors.add(new Written("ünïcode.f16", DType.FLOAT16, new long[] { 1, 3 }, new float[] { 0.5f, -1f, 2f }));
        metadata.put("format", "pt");
        metadata.put("note", "héllo \"quoted\" \\ ✓");

        SafetensorsWriter w = new SafetensorsWriter();
        for (Written t : tensors) {
            w.add(t.name, t.type, t.shape, t.values);
        }
        metadata.forEach(w::metadata);
        file = dir.resolve("model.safetensors");
        w.write(file);
    }

    /** The value the file should hold for {@code v}: exact for F32, rounded through the 16-bit type otherwise. */
    private static float stored(DType type, float v) {
        return switch (type) {
            case FLOAT32 -> v;
            case FLOAT16 -> Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(v));
            case BFLOAT16 -> Fp16Conversions.bf16ToFloat(Fp16Conversions.floatToBf16(v));
            default -> throw new AssertionError(type);
        };
    }

    private static float read(DType type, ByteBuffer data, int i) {
        return switch (type) {
            case FLOAT32 -> data.getFloat(4 * i);
            case FLOAT16 -> Fp16Conversions.fp16ToFloat(data.getShort(2 * i));
            case BFLOAT16 -> Fp16Conversions.bf16ToFloat(data.getShort(2 * i));
            default -> throw new AssertionError(type);
        };
    }

    private static void assertTensor(Written t, TensorSpec spec, ByteBuffer data) {
        assertEquals(t.name, spec.name());
        assertEquals(t.type, spec.type(), t.name);
        assertArrayEquals(t.shape, spec.shape(), t.name);
        assertEquals(t.byteSize(), spec.byteSize(), t.name);

        assertTrue(data.isDirect(), t.name + ": data must be a direct (mapped) buffer");
        assertTrue(data.isReadOnly(), t.name + ": data must be read-only");
        assertEquals(ByteOrder.LITTLE_ENDIAN, data.order(), t.name);
        assertEquals(0, data.position(), t.name);
        assertEquals(t.byteSize(), data.remaining(), t.name);
        assertEquals(t.byteSize(), data.capacity(), t.name);
        for (int i = 0; i < t.values.length; i++) {
            // assertEquals(float, float) compares bit patterns, so -0.0 and NaN are checked exactly too.
            assertEquals(stored(t.type, t.values[i]), read(t.type, data, i), t.name + "[" + i + "]");
        }
    }

    @Test
    void safetensorsFileReadsBackSpecsValuesAndMetadata() {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(file, f.path());
            assertEquals(metadata, f.metadata());
            assertEquals(tensors.stream().map(Written::name).toList(), new ArrayList<>(f.names()));
            for (Written t : tensors) {
                assertTrue(f.contains(t.name));
                TensorSpec spec = f.spec(t.name);
                assertEquals(file.toString(), spec.source(), "spec should name the file it came from");
                assertTensor(t, spec, f.data(t.name));
            }
            assertFalse(f.contains("nope"));
        }
    }

    @Test
    void weightStoreReadsBackTheSameTensors() {
        try (WeightStore store = WeightStore.open(dir)) {
            assertEquals(dir, store.dir());
            assertEquals(tensors.stream().map(Written::name).collect(java.util.stream.Collectors.toSet()),
                    store.names());
            assertEquals(tensors.stream().mapToLong(Written::byteSize).sum(), store.byteSize());
            for (Written t : tensors) {
                assertTrue(store.contains(t.name));
                assertTensor(t, store.spec(t.name), store.data(t.name));
            }
        }
    }

    @Test
    void f16AndBf16ActuallyRoundAndF32IsExact() {
        // Guards against a test that passes because stored() is the identity: these values are not representable.
        assertFalse(stored(DType.FLOAT16, 1f / 3f) == 1f / 3f);
        assertFalse(stored(DType.BFLOAT16, 123.456f) == 123.456f);
        assertEquals(Float.POSITIVE_INFINITY, stored(DType.FLOAT16, 70000f), "F16 overflow goes to infinity");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ByteBuffer f16 = f.data("vec.f16");
            assertEquals(Fp16Conversions.floatToFp16(1f / 3f), f16.getShort(0), "raw F16 bits");
            ByteBuffer bf16 = f.data("cube.bf16");
            assertEquals(Fp16Conversions.floatToBf16(-2.5f), bf16.getShort(2), "raw BF16 bits");
            assertEquals(-0.7f, Fp16Conversions.bf16ToFloat(f.data("scalar.bf16").getShort(0)), 0.01f);
            assertEquals(3.25f, f.data("scalar.f32").getFloat(0));
        }
    }

    @Test
    void dataBuffersAreIndependentReadOnlyViews() {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ByteBuffer a = f.data("blocks.0.attn.to_q.weight");
            assertThrows(ReadOnlyBufferException.class, () -> a.put(0, (byte) 1));
            a.position(8).limit(12);
            a.order(ByteOrder.BIG_ENDIAN);
            ByteBuffer b = f.data("blocks.0.attn.to_q.weight");
            assertEquals(0, b.position(), "each data() call gets a fresh view");
            assertEquals(b.capacity(), b.limit());
            assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
        }
    }

    @Test
    void writtenFileFollowsTheSafetensorsLayout() throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue(n > 0 && 8 + n <= bytes.length, "header length " + n);
        long dataStart = 8 + n;
        assertEquals(0, dataStart % 8, "the data section starts 8-byte aligned");

        JsonNode root = JSON.readTree(new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(root.isObject());

        JsonNode meta = root.get("__metadata__");
        assertTrue(meta != null && meta.isObject(), "__metadata__ object");
        Map<String, String> readMeta = new LinkedHashMap<>();
        meta.fields().forEachRemaining(e -> {
            assertTrue(e.getValue().isTextual(), "metadata values are strings");
            readMeta.put(e.getKey(), e.getValue().asText());
        });
        assertEquals(metadata, readMeta);

        Set<String> names = new java.util.LinkedHashSet<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!k.equals("__metadata__")) {
                names.add(k);
            }
        }
        assertEquals(tensors.stream().map(Written::name).collect(java.util.stream.Collectors.toSet()), names);

        long expectedBegin = 0;
        for (Written t : tensors) {
            JsonNode e = root.get(t.name);
            String dtype = switch (t.type) {
                case FLOAT32 -> "F32";
                case FLOAT16 -> "F16";
                case BFLOAT16 -> "BF16";
                default -> throw new AssertionError(t.type);
            };
            assertEquals(dtype, e.get("dtype").asText(), t.name);
            JsonNode shape = e.get("shape");
            assertTrue(shape.isArray(), t.name);
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                assertTrue(shape.get(i).isIntegralNumber(), t.name + " shape entries are integers");
                dims[i] = shape.get(i).asLong();
            }
            assertArrayEquals(t.shape, dims, t.name);
            JsonNode off = e.get("data_offsets");
            assertEquals(2, off.size(), t.name);
            long begin = off.get(0).asLong();
            long end = off.get(1).asLong();
            // Written in order, packed: each tensor starts where the previous one ended.
            assertEquals(expectedBegin, begin, t.name);
            assertEquals(t.byteSize(), end - begin, t.name);
            expectedBegin = end;

            // The bytes at the offsets are the tensor's little-endian values.
            ByteBuffer raw = ByteBuffer.wrap(bytes, (int) (dataStart + begin), (int) (end - begin)).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < t.values.length; i++) {
                assertEquals(stored(t.type, t.values[i]), read(t.type, raw, i), t.name + "[" + i + "]");
            }
        }
        assertEquals(bytes.length - dataStart, expectedBegin, "no trailing bytes after the last tensor");
        assertFalse(Files.exists(dir.resolve("model.safetensors.tmp")), "temporary file removed");
    }

    @Test
    void fileWithoutMetadataHasEmptyMetadata() throws IOException {
        Path plain = dir.resolve("sub");
        Files.createDirectory(plain);
        Path f = plain.resolve("plain.safetensors");
        new SafetensorsWriter().add("x", DType.FLOAT32, new long[] { 2 }, new float[] { 1f, 2f }).write(f);
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8);
        assertEquals(8 + n + 8, bytes.length);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertTrue(sf.metadata().isEmpty());
            assertEquals(2f, sf.data("x").getFloat(4));
        }
    }

    @Test
    void writerRejectsMismatchedValueCountAndUnsupportedTypes() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class,
                () -> w.add("x", DType.FLOAT32, new long[] { 2, 2 }, new float[] { 1f, 2f, 3f }));
        assertThrows(IllegalArgumentException.class,
                () -> w.add("i", DType.INT64, new long[] { 1 }, i -> 0f));
    }

    @Test
    void readsAFileWrittenByHandWithoutPadding() {
        // Offsets need not be aligned, and metadata is optional: a minimal, hand-written, valid file.
        Path f = SafetensorsFixtures.rawFile(dir.resolve("hand.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}",
                SafetensorsFixtures.f32(1.5f, -2f));
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertEquals(1.5f, sf.data("a").getFloat(0));
            assertEquals(-2f, sf.data("b").getFloat(0));
            assertArrayEquals(new long[] {}, sf.spec("b").shape());
            assertTrue(sf.metadata().isEmpty());
        }
    }
}
