package dev.ditfn.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.onnx.WeightCatalog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The weights of one model component: a single {@code .safetensors} file or shards listed by a
 * {@code *.safetensors.index.json}. Every file is opened (and its header validated) up front; data stays
 * mapped, not read.
 */
public final class WeightStore implements WeightCatalog, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private WeightStore(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.files = files;
        this.byTensor = byTensor;
    }

    /** Opens the weights in {@code dir}: an index file if there is one, else every {@code *.safetensors}. */
    public static WeightStore open(Path dir) {
        List<Path> indexes = list(dir, ".safetensors.index.json");
        if (indexes.size() > 1) {
            throw new WeightsException(dir + " has several weight index files " + indexes + "; keep one");
        }
        return indexes.isEmpty() ? openFiles(dir, list(dir, ".safetensors")) : openIndexed(dir, indexes.get(0));
    }

    private static WeightStore openFiles(Path dir, List<Path> paths) {
        if (paths.isEmpty()) {
            throw new WeightsException("no *.safetensors weights in " + dir);
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (String name : f.names()) {
                    SafetensorsFile previous = byTensor.put(name, f);
                    if (previous != null) {
                        throw new WeightsException("tensor '" + name + "' is in both " + previous.path() + " and " + p);
                    }
                }
            }
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return new WeightStore(dir, files, byTensor);
    }

    private static WeightStore openIndexed(Path dir, Path index) {
        JsonNode map;
        try {
            map = JSON.readTree(index.toFile()).get("weight_map");
        } catch (IOException e) {
            throw new WeightsException("cannot read weight index " + index + ": " + e.getMessage(), e);
        }
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new WeightsException("weight index " + index + " has no (or an empty) weight_map object");
        }
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (var it = map.fields(); it.hasNext();) {
                var e = it.next();
                String shard = e.getValue().asText();
                Path p = dir.resolve(shard).normalize();
                if (!p.getParent().equals(dir.normalize())) {
                    throw new WeightsException("weight index " + index + " maps tensor '" + e.getKey() + "' to "
                            + shard + ", which is not a file in " + dir);
                }
                if (!Files.isRegularFile(p)) {
                    throw new WeightsException("weight index " + index + " maps tensor '" + e.getKey()
                            + "' to " + shard + ", which does not exist");
                }
                SafetensorsFile f = opened.computeIfAbsent(shard, s -> SafetensorsFile.open(p));
                if (!f.contains(e.getKey())) {
                    throw new WeightsException("weight index " + index + " maps tensor '" + e.getKey() + "' to "
                            + p + ", which does not contain it");
                }
                byTensor.put(e.getKey(), f);
            }
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new WeightStore(dir, new ArrayList<>(opened.values()), byTensor);
    }

    private static List<Path> list(Path dir, String suffix) {
        if (!Files.isDirectory(dir)) {
            throw new WeightsException("weights folder " + dir + " does not exist");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new WeightsException("cannot list " + dir + ": " + e, e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(byTensor.keySet());
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public TensorSpec spec(String name) {
        return file(name).spec(name);
    }

    /** The tensor's bytes, mapped from its file (direct, little-endian, no copy). */
    public ByteBuffer data(String name) {
        return file(name).data(name);
    }

    /** Total bytes of the tensors in this store. */
    public long byteSize() {
        return byTensor.keySet().stream().mapToLong(n -> spec(n).byteSize()).sum();
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new WeightsException("tensor '" + name + "' is missing: not in any weight file of " + dir);
        }
        return f;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
