package dev.ditfn.app;

import dev.ditfn.engine.DiffusionPipeline;
import dev.ditfn.runtime.ResolvedDevice;

import java.nio.file.Path;
import java.time.Duration;

/** A model that finished loading: where it came from, what it holds, and the pipeline that serves it. */
public record LoadedModel(String id, Path dir, String pipelineClass, ResolvedDevice device, int tensors,
        long weightBytes, Duration loadTime, DiffusionPipeline pipeline) implements AutoCloseable {

    @Override
    public void close() {
        pipeline.close();
    }
}
