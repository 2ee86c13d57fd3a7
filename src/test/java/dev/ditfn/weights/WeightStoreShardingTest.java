package dev.ditfn.weights;

import static dev.ditfn.weights.SafetensorsFixtures.assertWeightsError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded checkpoints: {@code *.safetensors.index.json} with a weight_map, and unindexed multi-file folders. */
class WeightStoreShardingTest {

    private static final String SHARD1 = "diffusion_pytorch_model-00001-of-00002.safetensors";
    private static final String SHARD2 = "diffusion_pytorch_model-00002-of-00002.safetensors";
    private static final String INDEX = "diffusion_pytorch_model.safetensors.index.json";

    @TempDir
    Path dir;

    @BeforeEach
    void writeShards() {
        new SafetensorsWriter()
                .add("a.weight", DType.FLOAT32, new long[] { 2, 2 }, new float[] { 1f, 2f, 3f, 4f })
                .add("a.bias", DType.FLOAT32, new long[] { 2 }, new float[] { 5f, 6f })
                .metadata("format", "pt")
                .write(dir.resolve(SHARD1));
        new SafetensorsWriter()
                .add("b.weight", DType.BFLOAT16, new long[] { 3 }, new float[] { 7f, 8f, 9f })
                .write(dir.resolve(SHARD2));
    }

    private void writeIndex(String name, String weightMapJson) throws IOException {
        Files.writeString(dir.resolve(name),
                "{\"metadata\":{\"total_size\":30},\"weight_map\":" + weightMapJson + "}");
    }

    private static String fullMap() {
        return "{\"a.weight\":\"" + SHARD1 + "\",\"a.bias\":\"" + SHARD1 + "\",\"b.weight\":\"" + SHARD2 + "\"}";
    }

    @Test
    void indexResolvesEachTensorToItsShard() throws IOException {
        writeIndex(INDEX, fullMap());
        try (WeightStore store = WeightStore.open(dir)) {
            assertEquals(Set.of("a.weight", "a.bias", "b.weight"), store.names());
            assertEquals(dir.resolve(SHARD1).toString(), store.spec("a.weight").source());
            assertEquals(dir.resolve(SHARD1).toString(), store.spec("a.bias").source());
            assertEquals(dir.resolve(SHARD2).toString(), store.spec("b.weight").source());
            assertEquals(DType.BFLOAT16, store.spec("b.weight").type());
            assertEquals(4f, store.data("a.weight").getFloat(12));
            assertEquals(6f, store.data("a.bias").getFloat(4));
            assertEquals(9f, ai.onnxruntime.platform.Fp16Conversions.bf16ToFloat(store.data("b.weight").getShort(4)));
            assertEquals(16 + 8 + 6, store.byteSize());
        }
    }

    @Test
    void unindexedShardsAreAllOpened() {
        try (WeightStore store = WeightStore.open(dir)) {
            assertEquals(Set.of("a.weight", "a.bias", "b.weight"), store.names());
            assertEquals(dir.resolve(SHARD2).toString(), store.spec("b.weight").source());
            assertEquals(2f, store.data("a.weight").getFloat(4));
        }
    }

    @Test
    void indexTakesPrecedenceOverOtherFilesInTheFolder() throws IOException {
        // A stray file that would clash without the index is ignored once an index names the shards.
        new SafetensorsWriter().add("a.weight", DType.FLOAT32, new long[] { 1 }, new float[] { -1f })
                .write(dir.resolve("stray.safetensors"));
        writeIndex(INDEX, fullMap());
        try (WeightStore store = WeightStore.open(dir)) {
            assertEquals(dir.resolve(SHARD1).toString(), store.spec("a.weight").source());
            assertEquals(1f, store.data("a.weight").getFloat(0));
        }
    }

    @Test
    void indexOnlyExposesMappedTensors() throws IOException {
        writeIndex(INDEX, "{\"a.weight\":\"" + SHARD1 + "\"}");
        try (WeightStore store = WeightStore.open(dir)) {
            assertEquals(Set.of("a.weight"), store.names());
            assertFalse(store.contains("b.weight"));
            assertWeightsError(() -> store.spec("a.bias"), "'a.bias'", dir.toString());
        }
    }

    @Test
    void indexPointingToAMissingShard() throws IOException {
        String missing = "diffusion_pytorch_model-00003-of-00003.safetensors";
        writeIndex(INDEX, "{\"a.weight\":\"" + SHARD1 + "\",\"c.weight\":\"" + missing + "\"}");
        assertWeightsError(() -> WeightStore.open(dir).close(), missing, "'c.weight'", INDEX);
    }

    @Test
    void indexMappingATensorToAShardThatLacksIt() throws IOException {
        writeIndex(INDEX, "{\"a.weight\":\"" + SHARD2 + "\"}");
        assertWeightsError(() -> WeightStore.open(dir).close(), SHARD2, "'a.weight'");
    }

    @Test
    void indexWithoutWeightMap() throws IOException {
        Files.writeString(dir.resolve(INDEX), "{\"metadata\":{}}");
        assertWeightsError(() -> WeightStore.open(dir).close(), INDEX, "weight_map");
    }

    @Test
    void indexNotJson() throws IOException {
        Files.writeString(dir.resolve(INDEX), "{\"weight_map\": {");
        assertWeightsError(() -> WeightStore.open(dir).close(), INDEX);
    }

    @Test
    void corruptShardNamedInTheError() throws IOException {
        SafetensorsFixtures.rawFile(dir.resolve(SHARD2), "[]", new byte[8]);
        writeIndex(INDEX, fullMap());
        assertWeightsError(() -> WeightStore.open(dir).close(), SHARD2);
    }

    @Test
    void sameTensorInTwoUnindexedFiles() {
        new SafetensorsWriter().add("b.weight", DType.FLOAT32, new long[] { 1 }, new float[] { 1f })
                .write(dir.resolve("extra.safetensors"));
        WeightsException e = assertWeightsError(() -> WeightStore.open(dir).close(), "'b.weight'");
        assertTrue(e.getMessage().contains(SHARD2) && e.getMessage().contains("extra.safetensors"), e.getMessage());
    }

    @Test
    void multipleIndexFiles() throws IOException {
        writeIndex(INDEX, fullMap());
        writeIndex("model.safetensors.index.json", fullMap());
        assertWeightsError(() -> WeightStore.open(dir).close(), dir.toString(), INDEX,
                "model.safetensors.index.json");
    }

    @Test
    void folderWithoutWeights() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Files.writeString(empty.resolve("config.json"), "{}");
        assertWeightsError(() -> WeightStore.open(empty).close(), empty.toString());
    }

    @Test
    void folderThatDoesNotExist() {
        Path absent = dir.resolve("absent");
        assertWeightsError(() -> WeightStore.open(absent).close(), absent.toString());
    }

    @Test
    void indexShardOutsideTheFolderIsRefused() throws IOException {
        new SafetensorsWriter().add("x", DType.FLOAT32, new long[] {1}, new float[] {1f})
                .write(dir.getParent().resolve("outside.safetensors"));
        writeIndex(INDEX, "{\"x\":\"../outside.safetensors\"}");
        assertWeightsError(() -> WeightStore.open(dir), "'x'", "../outside.safetensors", "not a file in");
    }

    @Test
    void indexWithEmptyWeightMap() throws IOException {
        writeIndex(INDEX, "{}");
        assertWeightsError(() -> WeightStore.open(dir), INDEX, "empty");
    }
}
