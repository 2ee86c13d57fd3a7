package dev.ditfn.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.onnx.TensorSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@code .safetensors} file, memory-mapped. The header is parsed and validated when the file is opened
 * (dtypes, shapes, offsets against the file size); tensor data is mapped on demand and never copied onto
 * the Java heap.
 *
 * <p>Layout: 8-byte little-endian header length {@code n}, {@code n} bytes of JSON, then the data section;
 * each entry's {@code data_offsets} are relative to the data section.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers of real checkpoints are well under a megabyte; anything huge is corrupt. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(TensorSpec spec, long begin, long end) {
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final Map<String, ByteBuffer> mapped = new ConcurrentHashMap<>();

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new WeightsException("cannot open weight file " + path + ": " + e, e);
        }
        try {
            return parse(path, channel);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel channel) {
        String file = path.toString();
        try {
            long size = channel.size();
            if (size < 8) {
                throw new WeightsException(file + " is truncated: " + size + " bytes, too short for a safetensors header");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new WeightsException(file + " has an invalid header length " + headerLen + " (file size " + size
                        + "): not a safetensors file, or truncated");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(channel, header, 8);
            JsonNode root;
            try {
                root = JSON.readTree(header.array());
            } catch (IOException e) {
                throw new WeightsException(file + " has a corrupt safetensors header (invalid JSON): " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new WeightsException(file + " has a corrupt safetensors header: not a JSON object");
            }
            long dataStart = 8 + headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                } else {
                    entries.put(f.getKey(), entry(f.getKey(), f.getValue(), file, dataStart));
                }
            }
            checkLayout(entries, size - dataStart, file);
            return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new WeightsException("cannot read " + file + ": " + e, e);
        }
    }

    private static Entry entry(String name, JsonNode node, String file, long dataStart) {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray() || offsets == null
                || !offsets.isArray() || offsets.size() != 2) {
            throw new WeightsException("tensor '" + name + "' in " + file
                    + " has a corrupt header entry (needs dtype, shape and two data_offsets): " + node);
        }
        SafetensorsDType dt = SafetensorsDType.parse(dtype.asText(), name, file);
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!isLong(shape.get(i)) || shape.get(i).asLong() < 0) {
                throw new WeightsException("tensor '" + name + "' in " + file + " has an invalid shape " + shape);
            }
            dims[i] = shape.get(i).asLong();
        }
        if (!isLong(offsets.get(0)) || !isLong(offsets.get(1))) {
            throw new WeightsException("tensor '" + name + "' in " + file + " has non-integer data_offsets " + offsets);
        }
        long begin = offsets.get(0).asLong();
        TensorSpec spec = new TensorSpec(name, dt.type, dims, file, dataStart + begin);
        long end = offsets.get(1).asLong();
        long expected;
        try {
            expected = spec.byteSize();
        } catch (ArithmeticException e) {
            throw new WeightsException("tensor '" + name + "' in " + file + " has an impossible shape " + shape);
        }
        if (begin < 0 || end < begin || end - begin != expected) {
            throw new WeightsException("tensor '" + name + "' in " + file + " has data_offsets [" + begin + ", " + end
                    + "] covering " + (end - begin) + " bytes, but " + dt + " " + spec.shapeString() + " needs "
                    + expected);
        }
        return new Entry(spec, begin, end);
    }

    /** Only JSON integers that fit a long: no floats, strings or overflowing values are coerced. */
    private static boolean isLong(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong();
    }

    private static void checkLayout(Map<String, Entry> entries, long dataBytes, String file) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        for (Entry e : sorted) {
            if (e.begin < cursor) {
                throw new WeightsException("tensor '" + e.spec.name() + "' in " + file + " overlaps the previous tensor");
            }
            if (e.end > dataBytes) {
                throw new WeightsException(file + " is truncated: tensor '" + e.spec.name() + "' ends at byte "
                        + e.end + " of the data section, which has only " + dataBytes + " bytes");
            }
            cursor = e.end;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public java.util.Set<String> names() {
        return entries.keySet();
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    public TensorSpec spec(String name) {
        return entry(name).spec;
    }

    /**
     * The tensor's bytes as a read-only, little-endian, direct buffer over the mapped file (no copy).
     * The mapping lives as long as the returned buffer is reachable.
     */
    public ByteBuffer data(String name) {
        Entry e = entry(name);
        return mapped.computeIfAbsent(name, n -> {
            try {
                return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin, e.end - e.begin)
                        .order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException ex) {
                throw new WeightsException("cannot map tensor '" + name + "' of " + path + ": " + ex, ex);
            }
        }).duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new WeightsException("tensor '" + name + "' is not in " + path);
        }
        return e;
    }

    @Override
    public void close() {
        mapped.clear();
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing useful to do: the mapping stays valid until unreachable
        }
    }
}
