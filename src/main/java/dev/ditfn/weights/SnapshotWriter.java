package dev.ditfn.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.onnx.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Writes the parts of a generated diffusers snapshot: {@code model_index.json} and components with random weights. */
public final class SnapshotWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;

    public SnapshotWriter(Path dir) {
        this.dir = dir;
    }

    /**
     * {@code model_index.json} naming {@code pipelineClass}, the generating {@code preset}, and each component as
     * {@code name, library, class} triples.
     */
    public void modelIndex(String pipelineClass, String preset, String... components) throws IOException {
        ObjectNode index = JSON.createObjectNode().put("_class_name", pipelineClass)
                .put("_diffusers_version", "0.36.0").put("_dit_fn_preset", preset);
        for (int i = 0; i + 2 < components.length; i += 3) {
            index.putArray(components[i]).add(components[i + 1]).add(components[i + 2]);
        }
        json(dir.resolve("model_index.json"), index);
    }

    /** {@code <name>/config.json} and {@code <name>/<file>} with the weights {@code weights} draws from {@code seed}. */
    public void component(String name, String file, ObjectNode config, DType weightType, long seed,
            Consumer<RandomWeights> weights) throws IOException {
        Path folder = dir.resolve(name);
        Files.createDirectories(folder);
        json(folder.resolve("config.json"), config);
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        weights.accept(new RandomWeights(out, weightType, seed));
        out.write(folder.resolve(file));
    }

    /** {@code scheduler/scheduler_config.json}. */
    public void scheduler(String configJson) throws IOException {
        file("scheduler/scheduler_config.json", configJson);
    }

    /** A text file at {@code path} below the snapshot. */
    public void file(String path, String text) throws IOException {
        Path target = dir.resolve(path);
        Files.createDirectories(target.getParent());
        Files.writeString(target, text);
    }

    private static void json(Path file, ObjectNode node) throws IOException {
        Files.createDirectories(file.getParent());
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
    }
}
