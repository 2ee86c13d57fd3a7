package dev.ditfn.weights;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.onnx.WeightQuantization;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * Block-quantized weights kept on disk between starts ({@code dit.quantization.cache-dir}), one file per weight.
 *
 * <p>An entry's name is a SHA-256 of what its bytes depend on: the source file's real path, size and modification
 * time, the tensor (name, offset, type, shape) and the bits, block size and scale type. The source's content is not
 * hashed: that would read every source weight at each start, the cost the cache exists to avoid. An entry holds a
 * 64-byte header (magic, the weight's dimensions and settings, payload lengths, a CRC32C of the payload) and the
 * packed values and scales as {@link BlockQuantizer} lays them out. Entries are memory-mapped when read (no copy on
 * the heap or in direct memory), written to a temporary file and moved into place, so a reader never sees a partial
 * entry and a mapped entry is never changed under its reader. An entry that does not check out is quantized again
 * and replaced, with a warning. Nothing is ever deleted: stale entries stay until the folder is cleared.
 */
public final class QuantizedWeightCache {
    private static final Logger LOG = Logger.getLogger(QuantizedWeightCache.class);
    private static final byte[] MAGIC = "DITQW001".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 64;
    private static final int CRC_AT = 52;
    private static final String SUFFIX = ".qw";

    /** Weights served from the cache, quantized and stored, and quantized again because their entry was bad. */
    public record Stats(long read, long written, long rebuilt) {
    }

    private final Path dir;
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong rebuilt = new AtomicLong();

    private QuantizedWeightCache(Path dir) {
        this.dir = dir;
    }

    /** The cache in {@code dir}, created if missing; a folder that cannot be written is refused. */
    public static QuantizedWeightCache open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the quantization cache folder " + dir + ": " + e, e);
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("the quantization cache folder " + dir + " is not writable");
        }
        return new QuantizedWeightCache(dir);
    }

    public Path dir() {
        return dir;
    }

    public Stats stats() {
        return new Stats(read.get(), written.get(), rebuilt.get());
    }

    /**
     * {@code source} quantized as {@code q} with {@code scaleType} scales: read from its entry when that checks out,
     * else {@code quantize}d and stored. A failed write is a warning: the weight is served all the same.
     */
    public BlockQuantizer.Quantized get(TensorSpec source, WeightQuantization q, DType scaleType,
            Supplier<BlockQuantizer.Quantized> quantize) {
        Path entry = dir.resolve(key(source, q, scaleType) + SUFFIX);
        boolean existed = Files.exists(entry);
        if (existed) {
            try {
                BlockQuantizer.Quantized cached = read(entry, source, q, scaleType);
                read.incrementAndGet();
                return cached;
            } catch (IOException | BadEntryException e) {
                LOG.warnf("quantization cache entry %s of '%s' is unusable (%s); quantizing it again", entry,
                        source.name(), e.getMessage());
            }
        }
        BlockQuantizer.Quantized fresh = quantize.get();
        try {
            write(entry, fresh);
            (existed ? rebuilt : written).incrementAndGet();
        } catch (IOException e) {
            LOG.warnf("cannot write quantization cache entry %s of '%s': %s", entry, source.name(), e);
        }
        return fresh;
    }

    /** The entry name: a hex SHA-256 of everything the quantized bytes depend on. */
    static String key(TensorSpec source, WeightQuantization q, DType scaleType) {
        Path file = Path.of(source.source());
        String identity;
        try {
            identity = file.toRealPath() + "\n" + Files.size(file) + "\n"
                    + Files.getLastModifiedTime(file).to(TimeUnit.NANOSECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the attributes of weight file " + file + ": " + e, e);
        }
        String key = "dit-fn quantized weight v1\n" + identity + "\n" + source.name() + "@" + source.offset() + " "
                + source.type() + Arrays.toString(source.shape()) + "\nbits " + q.bits() + " block " + q.blockSize()
                + " scales " + scaleType;
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static BlockQuantizer.Quantized read(Path entry, TensorSpec source, WeightQuantization q, DType scaleType)
            throws IOException, BadEntryException {
        long n = source.shape()[0];
        long k = source.shape()[1];
        long packedBytes = n * q.blocks(k) * q.blobBytes();
        long scalesBytes = n * q.blocks(k) * scaleType.byteSize();
        ByteBuffer expected = header(n, k, q.bits(), q.blockSize(), scaleType, packedBytes, scalesBytes, 0);
        MappedByteBuffer mapped;
        try (FileChannel ch = FileChannel.open(entry, StandardOpenOption.READ)) {
            if (ch.size() != HEADER_BYTES + packedBytes + scalesBytes) {
                throw new BadEntryException(ch.size() + " bytes, expected "
                        + (HEADER_BYTES + packedBytes + scalesBytes));
            }
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
        } catch (NoSuchFileException e) {
            throw new BadEntryException("removed while being read");
        }
        ByteBuffer header = mapped.slice(0, HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (!header.slice(0, CRC_AT).equals(expected.slice(0, CRC_AT))) {
            throw new BadEntryException("its header does not describe this weight");
        }
        ByteBuffer packed = mapped.slice(HEADER_BYTES, (int) packedBytes).order(ByteOrder.nativeOrder());
        ByteBuffer scales = mapped.slice(HEADER_BYTES + (int) packedBytes, (int) scalesBytes)
                .order(ByteOrder.LITTLE_ENDIAN);
        if (header.getInt(CRC_AT) != payloadCrc(packed, scales)) {
            throw new BadEntryException("checksum mismatch");
        }
        return new BlockQuantizer.Quantized(packed, scales, n, k, q.bits(), q.blockSize(), scaleType);
    }

    /** Magic, dimensions, settings and payload lengths, then the payload's CRC32C at {@link #CRC_AT}; zero-padded. */
    private static ByteBuffer header(long n, long k, int bits, int blockSize, DType scaleType, long packedBytes,
            long scalesBytes, int crc) {
        return ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN).put(MAGIC).putLong(n).putLong(k)
                .putInt(bits).putInt(blockSize).putInt(scaleType.onnxCode()).putLong(packedBytes).putLong(scalesBytes)
                .putInt(CRC_AT, crc).position(0);
    }

    private void write(Path entry, BlockQuantizer.Quantized w) throws IOException {
        ByteBuffer header = header(w.n(), w.k(), w.bits(), w.blockSize(), w.scaleType(), w.packed().capacity(),
                w.scales().capacity(), payloadCrc(w.packed(), w.scales()));
        Path temp = Files.createTempFile(dir, entry.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                for (ByteBuffer part : new ByteBuffer[] {header, w.packed().duplicate().position(0),
                        w.scales().duplicate().position(0)}) {
                    while (part.hasRemaining()) {
                        ch.write(part);
                    }
                }
                ch.force(true);
            }
            try {
                Files.move(temp, entry, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the cache folder does not support atomic renames", e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static int payloadCrc(ByteBuffer packed, ByteBuffer scales) {
        CRC32C crc = new CRC32C();
        crc.update(packed.duplicate().position(0));
        crc.update(scales.duplicate().position(0));
        return (int) crc.getValue();
    }

    /** An entry whose bytes cannot be served. */
    private static final class BadEntryException extends Exception {
        BadEntryException(String message) {
            super(message);
        }
    }
}
