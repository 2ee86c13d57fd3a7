package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

/** Config parsing, the spec §6 rules with messages naming the config.json keys, and the random weights' layout. */
class QwenImageTransformerConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static ObjectNode tiny() {
        return QwenImageTransformerConfig.TINY.toJson();
    }

    @Test
    void publishedConfigParses() throws Exception {
        QwenImageTransformerConfig c = QwenImageTransformerConfig.fromJson(JSON.readTree("""
                {"_class_name": "QwenImageTransformer2DModel", "_diffusers_version": "0.34.0.dev0",
                 "attention_head_dim": 128, "axes_dims_rope": [16, 56, 56], "guidance_embeds": false,
                 "in_channels": 64, "joint_attention_dim": 3584, "num_attention_heads": 24, "num_layers": 60,
                 "out_channels": 16, "patch_size": 2, "pooled_projection_dim": 768}"""));
        assertEquals(3072, c.innerDim());
        assertEquals(64, c.outputDim());
        assertArrayEquals(new int[] {16, 56, 56}, c.axesDimsRope());
        // absent keys take the diffusers defaults, which are the published values
        assertEquals(c, QwenImageTransformerConfig.fromJson(JSON.readTree("{}")));
    }

    @Test
    void toJsonRoundTripsAndUsesDiffusersNames() {
        for (QwenImageTransformerConfig c : new QwenImageTransformerConfig[] {QwenImageTransformerConfig.TINY,
                QwenImageTransformerConfig.BENCH}) {
            ObjectNode j = c.toJson();
            assertEquals("QwenImageTransformer2DModel", j.get("_class_name").asText());
            for (String key : new String[] {"patch_size", "in_channels", "out_channels", "num_layers",
                    "attention_head_dim", "num_attention_heads", "joint_attention_dim", "axes_dims_rope"}) {
                assertTrue(j.has(key), key);
            }
            assertEquals(c, QwenImageTransformerConfig.fromJson(j));
        }
        assertEquals(64, QwenImageTransformerConfig.TINY.innerDim());
        assertEquals(256, QwenImageTransformerConfig.BENCH.innerDim());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = ';', value = {
            "axes_dims_rope; [8, 12, 10]; sum(axes_dims_rope) = 30",
            "axes_dims_rope; [9, 11, 12]; axes_dims_rope [9, 11, 12]: every axis dim must be even",
            "axes_dims_rope; [16, 16]; axes_dims_rope = [16,16] must be a list of 3 integers",
            "attention_head_dim; 16; must equal attention_head_dim = 16",
            "patch_size; 4; patch_size = 4 must be 2",
            "in_channels; 32; must equal in_channels = 32",
            "out_channels; 4; patch_size² · out_channels = 16",
            "num_attention_heads; 0; num_attention_heads = 0 must be positive",
            "num_layers; \"two\"; num_layers = \"two\" must be an integer",
            "num_layers; 2.5; invalid transformer config.json: num_layers = 2.5 must be an integer",
            "patch_size; 2.0; patch_size = 2.0 must be an integer",
            "in_channels; 3000000000; in_channels = 3000000000 must be an integer",
            "axes_dims_rope; [8, \"12\", 12]; axes_dims_rope = [8,\"12\",12] must be a list of 3 integers",
            "axes_dims_rope; 32; axes_dims_rope = 32 must be a list of 3 integers",
            "zero_cond_t; 0; zero_cond_t = 0 must be a boolean",
            "_class_name; 5; _class_name = 5 must be a string",
            "use_additional_t_cond; true; use_additional_t_cond",
            "use_layer3d_rope; true; use_layer3d_rope",
            "_class_name; \"FluxTransformer2DModel\"; _class_name"})
    void invalidConfigNamesTheKey(String key, String value, String expectedMessage) throws Exception {
        ObjectNode j = tiny();
        j.set(key, JSON.readTree(value));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QwenImageTransformerConfig.fromJson(j));
        assertTrue(e.getMessage().contains(expectedMessage), e.getMessage());
    }

    @Test
    void zeroCondTIsRead() {
        assertEquals(QwenImageTransformerConfig.TINY.withZeroCondT(true),
                QwenImageTransformerConfig.fromJson(tiny().put("zero_cond_t", true)));
        assertTrue(QwenImageTransformerConfig.TINY.withZeroCondT(true).toJson().get("zero_cond_t").asBoolean());
    }

    @Test
    void variantFlagsFalseAreAccepted() {
        ObjectNode j = tiny().put("zero_cond_t", false).put("use_additional_t_cond", false)
                .put("use_layer3d_rope", false).put("guidance_embeds", true);
        assertEquals(QwenImageTransformerConfig.TINY, QwenImageTransformerConfig.fromJson(j));
    }

    @Test
    void nullOutChannelsMeansInChannelsAndIsThenRejected() {
        ObjectNode j = tiny();
        j.putNull("out_channels");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QwenImageTransformerConfig.fromJson(j));
        assertTrue(e.getMessage().contains("out_channels") && e.getMessage().contains("in_channels"), e.getMessage());
    }

    @Test
    void randomWeightsHaveEveryTensorWithDiffusersNamesAndShapes() {
        QwenImageTransformerConfig c = QwenImageTransformerConfig.TINY;
        SafetensorsWriter out = new SafetensorsWriter();
        c.writeRandomWeights(new RandomWeights(out, DType.BFLOAT16, 1));
        out.write(dir.resolve("w.safetensors"));
        long d = c.innerDim();
        try (WeightStore s = WeightStore.open(dir)) {
            // 13 outside the blocks + 32 per block (spec §2.1: 1933 = 13 + 32·60 for the real model)
            assertEquals(13 + 32 * c.numLayers(), s.names().size());
            assertShape(s, "img_in.weight", d, 64);
            assertShape(s, "txt_norm.weight", 32);
            assertShape(s, "txt_in.weight", d, 32);
            assertShape(s, "time_text_embed.timestep_embedder.linear_1.weight", d, 256);
            assertShape(s, "time_text_embed.timestep_embedder.linear_2.bias", d);
            assertShape(s, "transformer_blocks.1.img_mod.1.weight", 6 * d, d);
            assertShape(s, "transformer_blocks.1.txt_mod.1.bias", 6 * d);
            assertShape(s, "transformer_blocks.0.attn.to_out.0.weight", d, d);
            assertShape(s, "transformer_blocks.0.attn.to_add_out.bias", d);
            assertShape(s, "transformer_blocks.0.attn.add_k_proj.weight", d, d);
            assertShape(s, "transformer_blocks.0.attn.norm_added_q.weight", 32);
            assertShape(s, "transformer_blocks.0.img_mlp.net.0.proj.weight", 4 * d, d);
            assertShape(s, "transformer_blocks.0.txt_mlp.net.2.weight", d, 4 * d);
            assertShape(s, "norm_out.linear.weight", 2 * d, d);
            assertShape(s, "proj_out.weight", 64, d);
            assertEquals(DType.BFLOAT16, s.spec("proj_out.bias").type());
        }
    }

    private static void assertShape(WeightStore s, String name, long... shape) {
        TensorSpec spec = s.spec(name);
        assertArrayEquals(shape, spec.shape(), name);
    }
}
