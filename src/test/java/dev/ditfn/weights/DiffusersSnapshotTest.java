package dev.ditfn.weights;

import static dev.ditfn.weights.SafetensorsFixtures.assertWeightsError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ditfn.onnx.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A diffusers-layout model folder: model_index.json, per-component configs and weights. */
class DiffusersSnapshotTest {

    @TempDir
    Path dir;

    @BeforeEach
    void writeSnapshot() throws IOException {
        Files.writeString(dir.resolve("model_index.json"), """
                {"_class_name": "QwenImagePipeline",
                 "_diffusers_version": "0.35.0",
                 "transformer": ["diffusers", "QwenImageTransformer2DModel"],
                 "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
                 "safety_checker": [null, null]}
                """);
        Path transformer = Files.createDirectory(dir.resolve("transformer"));
        Files.writeString(transformer.resolve("config.json"), """
                {"_class_name": "QwenImageTransformer2DModel", "num_layers": 2, "attention_head_dim": 128}
                """);
        new SafetensorsWriter()
                .add("proj_out.weight", DType.BFLOAT16, new long[] { 2, 2 }, new float[] { 1f, 2f, 3f, 4f })
                .write(transformer.resolve("diffusion_pytorch_model.safetensors"));
        Path scheduler = Files.createDirectory(dir.resolve("scheduler"));
        Files.writeString(scheduler.resolve("scheduler_config.json"), """
                {"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 3.0, "num_train_timesteps": 1000}
                """);
    }

    @Test
    void readsPipelineComponentsConfigsAndWeights() {
        DiffusersSnapshot s = DiffusersSnapshot.open(dir);
        assertEquals(dir, s.dir());
        assertEquals("QwenImagePipeline", s.pipelineClass());
        assertEquals(Map.of("transformer", "QwenImageTransformer2DModel",
                "scheduler", "FlowMatchEulerDiscreteScheduler"), s.components());
        assertEquals(List.of("transformer", "scheduler"), new ArrayList<>(s.components().keySet()),
                "components keep model_index.json order; underscored keys and null entries are skipped");
        assertEquals(dir.resolve("transformer"), s.componentDir("transformer"));

        JsonNode t = s.config("transformer");
        assertEquals(2, t.get("num_layers").asInt());
        assertEquals("QwenImageTransformer2DModel", t.get("_class_name").asText());

        JsonNode sched = s.config("scheduler");
        assertEquals(3.0, sched.get("shift").asDouble());
        assertEquals(1000, sched.get("num_train_timesteps").asInt());

        try (WeightStore w = s.weights("transformer")) {
            assertEquals(java.util.Set.of("proj_out.weight"), w.names());
            assertEquals(DType.BFLOAT16, w.spec("proj_out.weight").type());
            assertEquals(4f, ai.onnxruntime.platform.Fp16Conversions.bf16ToFloat(w.data("proj_out.weight").getShort(6)));
        }
    }

    @Test
    void configJsonWinsOverSchedulerConfigWhenBothExist() throws IOException {
        Files.writeString(dir.resolve("scheduler").resolve("config.json"), "{\"which\": \"config\"}");
        assertEquals("config", DiffusersSnapshot.open(dir).config("scheduler").get("which").asText());
    }

    @Test
    void missingModelIndex() throws IOException {
        Files.delete(dir.resolve("model_index.json"));
        assertWeightsError(() -> DiffusersSnapshot.open(dir), dir.resolve("model_index.json").toString());
    }

    @Test
    void modelIndexWithoutClassName() throws IOException {
        Files.writeString(dir.resolve("model_index.json"), "{\"transformer\": [\"diffusers\", \"X\"]}");
        assertWeightsError(() -> DiffusersSnapshot.open(dir), dir.resolve("model_index.json").toString(),
                "_class_name");
    }

    @Test
    void modelIndexNotJson() throws IOException {
        Files.writeString(dir.resolve("model_index.json"), "{\"_class_name\": ");
        assertWeightsError(() -> DiffusersSnapshot.open(dir), dir.resolve("model_index.json").toString());
    }

    @Test
    void modelIndexNotAnObject() throws IOException {
        Files.writeString(dir.resolve("model_index.json"), "[\"QwenImagePipeline\"]");
        assertWeightsError(() -> DiffusersSnapshot.open(dir), dir.resolve("model_index.json").toString());
    }

    @Test
    void missingConfigJson() throws IOException {
        Path config = dir.resolve("transformer").resolve("config.json");
        Files.delete(config);
        DiffusersSnapshot s = DiffusersSnapshot.open(dir);
        assertWeightsError(() -> s.config("transformer"), config.toString());
    }

    @Test
    void componentFolderMissing() throws IOException {
        Files.writeString(dir.resolve("model_index.json"), """
                {"_class_name": "QwenImagePipeline", "vae": ["diffusers", "AutoencoderKLQwenImage"]}
                """);
        DiffusersSnapshot s = DiffusersSnapshot.open(dir);
        assertWeightsError(() -> s.config("vae"), dir.resolve("vae").toString());
        assertWeightsError(() -> s.weights("vae").close(), dir.resolve("vae").toString());
    }

    @Test
    void unknownOrNullComponent() {
        DiffusersSnapshot s = DiffusersSnapshot.open(dir);
        Path index = dir.resolve("model_index.json");
        assertWeightsError(() -> s.config("vae"), "'vae'", index.toString());
        assertWeightsError(() -> s.weights("vae").close(), "'vae'", index.toString());
        assertWeightsError(() -> s.componentDir("safety_checker"), "'safety_checker'", index.toString());
        assertWeightsError(() -> s.config("_class_name"), "'_class_name'", index.toString());
    }

    @Test
    void componentWithoutWeights() {
        DiffusersSnapshot s = DiffusersSnapshot.open(dir);
        assertWeightsError(() -> s.weights("scheduler").close(), dir.resolve("scheduler").toString());
    }

    @Test
    void nonExistentDirectory() {
        Path absent = dir.resolve("no-such-model");
        assertWeightsError(() -> DiffusersSnapshot.open(absent), absent.toString());
    }

    @Test
    void fileInsteadOfDirectory() {
        Path file = dir.resolve("model_index.json");
        assertWeightsError(() -> DiffusersSnapshot.open(file), file.toString());
    }
}
