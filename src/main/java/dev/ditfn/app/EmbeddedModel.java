package dev.ditfn.app;

import dev.ditfn.onnx.DType;
import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The model served when no model directory is configured: a tiny snapshot generated once into the
 * cache folder (so no download is ever needed) and reused by later starts. Generation writes to a temporary folder and renames it, so a crash
 * never leaves a half-written model behind.
 */
public final class EmbeddedModel {
    /** Bump when the generated content changes, so stale caches are not reused. */
    static final String NAME = "qwen-image-tiny-v4";
    static final long SEED = 42;

    private EmbeddedModel() {
    }

    public static Path ensure(Path cacheDir) {
        Path target = cacheDir.resolve(NAME);
        if (Files.isRegularFile(target.resolve("model_index.json"))) {
            return target;
        }
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempDirectory(cacheDir, NAME + ".tmp");
            ModelFamilies.EMBEDDED_FAMILY.writePreset(ModelFamilies.EMBEDDED_PRESET, tmp, DType.FLOAT32, SEED);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                deleteTree(tmp); // another process generated it first
            } catch (IOException e) {
                if (!Files.isDirectory(target)) {
                    throw e;
                }
                deleteTree(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new WeightsException("cannot generate the embedded model in " + cacheDir + ": " + e, e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
