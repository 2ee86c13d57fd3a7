package dev.ditfn.app;

import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The model served when no model directory is configured: a tiny Qwen-Image trained on rendered scenes ("a red
 * circle on a blue background", see tools/train), shipped inside the application (fp16, a few MB) and copied once
 * into the cache folder, because ONNX Runtime maps weights from files. Copying writes to a temporary folder and
 * renames it, so a crash never leaves a half-written model behind.
 */
public final class EmbeddedModel {
    /** The snapshot's folder on the class path and in the cache; bump it when the snapshot changes. */
    static final String NAME = "qwen-image-scenes-v3";
    /** Lists the snapshot's files, one relative path per line. */
    static final String MANIFEST = "files.txt";

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
            try {
                copySnapshot(tmp);
            } catch (IOException | RuntimeException e) {
                deleteTree(tmp);
                throw e;
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                deleteTree(tmp); // another process copied it first
            } catch (IOException e) {
                if (!Files.isDirectory(target)) {
                    throw e;
                }
                deleteTree(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new WeightsException("cannot copy the embedded model to " + cacheDir + ": " + e, e);
        }
    }

    private static void copySnapshot(Path dir) throws IOException {
        for (String file : manifest()) {
            Path to = dir.resolve(file);
            Files.createDirectories(to.getParent());
            try (InputStream in = resource(file)) {
                Files.copy(in, to);
            }
        }
    }

    private static List<String> manifest() throws IOException {
        try (InputStream in = resource(MANIFEST)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
        }
    }

    private static InputStream resource(String file) throws IOException {
        InputStream in = EmbeddedModel.class.getResourceAsStream("/" + NAME + "/" + file);
        if (in == null) {
            throw new IOException("the application has no embedded model file " + NAME + "/" + file);
        }
        return in;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
