package dev.ditfn.model;

import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.ResolvedDevice;

import java.nio.file.Path;
import java.time.Duration;

/** A model that finished loading: where it came from, what it holds, and its ORT sessions. */
public record LoadedModel(String id, Path dir, String pipelineClass, ResolvedDevice device, int tensors,
        long weightBytes, Duration loadTime, ModelSession transformer) implements AutoCloseable {

    @Override
    public void close() {
        transformer.close();
    }
}
