package dev.ditfn.app;

import dev.ditfn.weights.DiffusersSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedModelTest {
    @Test
    void theTrainedSnapshotIsCopiedOnceWithEveryListedFile(@TempDir Path cache) throws Exception {
        Path dir = EmbeddedModel.ensure(cache);
        assertEquals(cache.resolve(EmbeddedModel.NAME), dir);
        DiffusersSnapshot snapshot = DiffusersSnapshot.open(dir);
        assertEquals("QwenImagePipeline", snapshot.pipelineClass());
        assertEquals(96, snapshot.metadata("_dit_fn_defaults").get("size").asInt());
        for (String c : new String[] {"text_encoder", "transformer", "vae"}) {
            try (var weights = snapshot.weights(c)) {
                assertTrue(weights.byteSize() > 100_000, c);
            }
        }
        long modified = Files.getLastModifiedTime(dir.resolve("model_index.json")).toMillis();
        Files.writeString(dir.resolve("marker"), "kept");
        assertEquals(dir, EmbeddedModel.ensure(cache));
        assertTrue(Files.exists(dir.resolve("marker")), "a second start reuses the copy");
        assertEquals(modified, Files.getLastModifiedTime(dir.resolve("model_index.json")).toMillis());
        try (Stream<Path> s = Files.list(cache)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary folder left");
        }
    }
}
