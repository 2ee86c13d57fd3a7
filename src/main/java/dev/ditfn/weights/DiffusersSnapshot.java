package dev.ditfn.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model directory in the diffusers layout: {@code model_index.json} naming the pipeline class and its
 * components, one folder per component with {@code config.json} (the scheduler's is
 * {@code scheduler_config.json}) and safetensors weights.
 */
public final class DiffusersSnapshot {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final String pipelineClass;
    private final Map<String, String> componentClasses;
    private final JsonNode index;

    private DiffusersSnapshot(Path dir, String pipelineClass, Map<String, String> componentClasses, JsonNode index) {
        this.dir = dir;
        this.pipelineClass = pipelineClass;
        this.componentClasses = componentClasses;
        this.index = index;
    }

    public static DiffusersSnapshot open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new WeightsException("model directory " + dir + " does not exist");
        }
        JsonNode index = readJson(dir.resolve("model_index.json"));
        JsonNode cls = index.get("_class_name");
        if (cls == null || !cls.isTextual()) {
            throw new WeightsException(dir.resolve("model_index.json") + " has no _class_name");
        }
        Map<String, String> components = new LinkedHashMap<>();
        index.fields().forEachRemaining(f -> {
            JsonNode v = f.getValue();
            // Components are ["library", "Class"]; nulls mark optional components that are absent.
            if (!f.getKey().startsWith("_") && v.isArray() && v.size() == 2 && v.get(1).isTextual()) {
                components.put(f.getKey(), v.get(1).asText());
            }
        });
        return new DiffusersSnapshot(dir, cls.asText(), Collections.unmodifiableMap(components), index);
    }

    static JsonNode readJson(Path file) {
        // Not isRegularFile: a config may be a pipe or device on some volume types; only absence is an error.
        if (!Files.exists(file) || Files.isDirectory(file)) {
            throw new WeightsException("missing " + file);
        }
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new WeightsException(file + " is not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new WeightsException("cannot parse " + file + ": " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** A metadata entry of {@code model_index.json} (a key starting with {@code _}), or null when absent. */
    public JsonNode metadata(String key) {
        if (!key.startsWith("_")) {
            throw new IllegalArgumentException("metadata keys start with _, was " + key);
        }
        return index.get(key);
    }

    public String pipelineClass() {
        return pipelineClass;
    }

    /** Component name to class name, as listed in {@code model_index.json}. */
    public Map<String, String> components() {
        return componentClasses;
    }

    public Path componentDir(String component) {
        if (!componentClasses.containsKey(component)) {
            throw new WeightsException(dir.resolve("model_index.json") + " lists no component '" + component + "'");
        }
        return dir.resolve(component);
    }

    /** The component's {@code config.json} (or {@code scheduler_config.json} where that is the file present). */
    public JsonNode config(String component) {
        Path folder = componentDir(component);
        Path config = folder.resolve("config.json");
        Path scheduler = folder.resolve("scheduler_config.json");
        return readJson(Files.exists(config) || !Files.exists(scheduler) ? config : scheduler);
    }

    /** Opens (and validates the headers of) the component's weight files. */
    public WeightStore weights(String component) {
        return WeightStore.open(componentDir(component));
    }
}
