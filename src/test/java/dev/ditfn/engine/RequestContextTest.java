package dev.ditfn.engine;

import ai.onnxruntime.OrtException;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.model.qwenimage.QwenImageSnapshot;
import dev.ditfn.onnx.DType;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Cancellation and deadlines on real ORT sessions of the tiny Qwen-Image. */
class RequestContextTest {
    private static QwenImagePipeline pipeline;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Path.of("target", "request-context-model");
        if (!Files.exists(dir.resolve("model_index.json"))) {
            QwenImageSnapshot.write(dir, QwenImageSnapshot.TINY, DType.FLOAT32, 42);
        }
        pipeline = QwenImagePipeline.load(DiffusersSnapshot.open(dir), CpuRuntime.shared(), new LoadOptions(Set.of()),
                s -> { });
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    private static GenerationParams oneStep() {
        return GenerationParams.uncached("a kite", null, 64, 64, 1, 1f, 5, 1, ImageCodec.Format.png);
    }

    /**
     * With one step there is no checkpoint after the denoising loop: only the ORT run options can stop the VAE
     * decode that follows, and they do.
     */
    @Test
    void cancellingStopsTheModelCallsThatFollowWithoutACheckpoint() {
        RequestContext[] self = new RequestContext[1];
        self[0] = new RequestContext(null, (steps, d) -> self[0].cancel());
        RequestAbortedException e = assertThrows(RequestAbortedException.class,
                () -> self[0].call(() -> pipeline.generate(oneStep(), self[0])));
        assertEquals(RequestAbortedException.Reason.CANCELLED, e.reason());
        Throwable ort = e.getCause();
        while (ort != null && !(ort instanceof OrtException)) {
            ort = ort.getCause();
        }
        assertInstanceOf(OrtException.class, ort, "stopped inside ORT: " + e.getCause());
        // The run options belonged to that request only: the next one on this thread runs.
        assertEquals(1, pipeline.generate(oneStep(), RequestContext.unbounded()).images().size());
    }

    @Test
    void aPassedDeadlineStopsTheModelCallInProgress() {
        RequestContext[] self = new RequestContext[1];
        self[0] = new RequestContext(Instant.now().plusSeconds(3600), (steps, d) -> self[0].enforceDeadline());
        // Not yet due: enforcing it changes nothing.
        assertEquals(1, self[0].call(() -> pipeline.generate(oneStep(), self[0])).images().size());

        RequestContext due = new RequestContext(Instant.now().minusMillis(1), null);
        due.enforceDeadline();
        RequestAbortedException e = assertThrows(RequestAbortedException.class,
                () -> due.call(() -> pipeline.generate(oneStep(), due)));
        assertEquals(RequestAbortedException.Reason.DEADLINE, e.reason());
    }

    @Test
    void aCancelledRequestDoesNoWork() {
        RequestContext context = new RequestContext(null, (steps, d) -> {
            throw new AssertionError("no step may run");
        });
        context.cancel();
        assertThrows(RequestAbortedException.class, () -> context.call(() -> pipeline.generate(oneStep(), context)));
    }
}
