package dev.ditfn.weights;

import ai.onnxruntime.platform.Fp16Conversions;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.TensorSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file, streaming each tensor's values so that files of hundreds of
 * megabytes are written without holding them on the heap. Used for generated models.
 * The file appears atomically (written to a temporary sibling, then moved).
 */
public final class SafetensorsWriter {

    /** Values of one tensor, produced in row-major order. */
    @FunctionalInterface
    public interface Values {
        float at(long index);
    }

    private record Pending(TensorSpec spec, Values values) {
    }

    private static final int CHUNK = 1 << 16;
    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter add(String name, DType type, long[] shape, Values values) {
        SafetensorsDType.of(type);
        tensors.add(new Pending(new TensorSpec(name, type, shape.clone(), "(pending)", -1), values));
        return this;
    }

    public SafetensorsWriter add(String name, DType type, long[] shape, float[] values) {
        TensorSpec spec = new TensorSpec(name, type, shape, "(pending)", -1);
        if (spec.elementCount() != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for shape " + spec.shapeString());
        }
        return add(name, type, shape, i -> values[(int) i]);
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public void write(Path file) {
        try {
            byte[] header = header();
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, len.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
                for (Pending p : tensors) {
                    writeValues(ch, chunk, p);
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new WeightsException("cannot write " + file + ": " + e, e);
        }
    }

    private byte[] header() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending p : tensors) {
            ObjectNode e = root.putObject(p.spec.name());
            e.put("dtype", SafetensorsDType.of(p.spec.type()).name());
            var shape = e.putArray("shape");
            for (long d : p.spec.shape()) {
                shape.add(d);
            }
            long size = p.spec.byteSize();
            e.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] raw = json.writeValueAsBytes(root);
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        int padded = (raw.length + 8 + 7) / 8 * 8 - 8;
        byte[] out = new byte[padded];
        System.arraycopy(raw, 0, out, 0, raw.length);
        java.util.Arrays.fill(out, raw.length, padded, (byte) ' ');
        return out;
    }

    private static void writeValues(FileChannel ch, ByteBuffer chunk, Pending p) throws IOException {
        long n = p.spec.elementCount();
        DType type = p.spec.type();
        chunk.clear();
        for (long i = 0; i < n; i++) {
            if (chunk.remaining() < 4) {
                writeFully(ch, chunk.flip());
                chunk.clear();
            }
            float v = p.values.at(i);
            switch (type) {
                case FLOAT32 -> chunk.putFloat(v);
                case FLOAT16 -> chunk.putShort(Fp16Conversions.floatToFp16(v));
                case BFLOAT16 -> chunk.putShort(Fp16Conversions.floatToBf16(v));
                default -> throw new IllegalStateException(type.toString());
            }
        }
        writeFully(ch, chunk.flip());
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
