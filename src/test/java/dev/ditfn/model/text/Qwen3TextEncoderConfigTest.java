package dev.ditfn.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class Qwen3TextEncoderConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Z-Image-Turbo's text_encoder/config.json (Qwen3-4B, zimage-edit-spec A5), as transformers 4.51 writes it. */
    private static final String QWEN3_4B = """
            {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
             "hidden_size": 2560, "initializer_range": 0.02, "intermediate_size": 9728,
             "max_position_embeddings": 40960, "max_window_layers": 36, "model_type": "qwen3",
             "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
             "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 151936}
            """;

    private static ObjectNode json() throws Exception {
        return (ObjectNode) JSON.readTree(QWEN3_4B);
    }

    @Test
    void readsTheQwen3_4bConfig() throws Exception {
        Qwen3TextEncoderConfig c = Qwen3TextEncoderConfig.fromJson(json());
        assertEquals(Qwen3TextEncoderConfig.QWEN3_4B, c);
        assertEquals(128, c.headDim());
        assertEquals(4096, c.queryWidth(), "32 heads x 128, not hidden_size 2560");
        assertEquals(1024, c.keyValueWidth());
        assertEquals(1e6, c.ropeTheta());
        assertEquals(QwenDecoderConfig.Output.PENULTIMATE_HIDDEN_STATE, c.output());
        assertEquals(35, c.layersBuilt(), "layers 0..34; layer 35 feeds only the final norm");
        // 2·2560 norms + 4096·2560 q + 2·1024·2560 k,v + 2560·4096 o + 2·128 q/k norms + 3·2560·9728 MLP
        assertEquals(100_930_816L, c.parametersPerLayer());
        // Embeddings + 35 layers, no final norm; the checkpoint (36 layers + norm) is 4,022,468,096.
        assertEquals(3_921_534_720L, c.parameterCount());
        assertEquals(4_022_468_096L, c.parameterCount() + c.parametersPerLayer() + c.hiddenSize());
    }

    @Test
    void readsRopeParametersOfNewerFilesAndAppliesQwen3ConfigDefaults() throws Exception {
        ObjectNode n = json();
        n.remove("rope_scaling");
        n.remove("rope_theta");
        n.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 5e5);
        assertEquals(5e5, Qwen3TextEncoderConfig.fromJson(n).ropeTheta());
        n.remove("rope_parameters");
        for (String key : new String[] {"rms_norm_eps", "max_position_embeddings", "hidden_act", "attention_bias",
            "use_sliding_window", "model_type", "architectures", "tie_word_embeddings"}) {
            n.remove(key);
        }
        Qwen3TextEncoderConfig c = Qwen3TextEncoderConfig.fromJson(n);
        assertEquals(10_000.0, c.ropeTheta(), "Qwen3Config's default rope_theta");
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(32768, c.maxPositionEmbeddings());
        // A rope_scaling of the default type and all-full-attention layer_types are fine.
        n.putObject("rope_scaling").put("rope_type", "default");
        n.putArray("layer_types").add("full_attention").add("full_attention");
        Qwen3TextEncoderConfig.fromJson(n);
    }

    @Test
    void toJsonRoundTrips() {
        for (Qwen3TextEncoderConfig c : new Qwen3TextEncoderConfig[] {Qwen3TextEncoderConfig.TINY,
            Qwen3TextEncoderConfig.QWEN3_4B}) {
            ObjectNode n = c.toJson();
            assertEquals("Qwen3ForCausalLM", n.path("architectures").get(0).asText());
            assertEquals("qwen3", n.path("model_type").asText());
            assertTrue(n.path("tie_word_embeddings").asBoolean());
            assertTrue(n.get("rope_scaling").isNull());
            assertEquals(c, Qwen3TextEncoderConfig.fromJson(n));
        }
    }

    @Test
    void tinyPresetFitsTheTinyTokenizerWithAnExplicitHeadDim() {
        Qwen3TextEncoderConfig t = Qwen3TextEncoderConfig.TINY;
        assertEquals(32, t.hiddenSize());
        assertEquals(3, t.numHiddenLayers());
        assertEquals(4, t.numAttentionHeads());
        assertEquals(2, t.numKeyValueHeads());
        assertEquals(16, t.headDim());
        assertNotEquals(t.hiddenSize() / t.numAttentionHeads(), t.headDim(), "head_dim is not hidden/heads");
        assertEquals(64, t.intermediateSize());
        assertEquals(2, t.layersBuilt());
        assertEquals(TinyTokenizer.VOCAB_SIZE, t.vocabSize());
        t.checkTokenizer(TinyTokenizer.tokenizer());
        QwenTextInputs.Rope rope = t.rope(5);
        assertEquals(16, rope.headDim());
        assertEquals(5 * 16, rope.cos().length);
    }

    private static void assertRejected(String expected, JsonNode n) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Qwen3TextEncoderConfig.fromJson(n));
        assertTrue(e.getMessage().startsWith("invalid text_encoder config.json: ")
                && e.getMessage().contains(expected), "message names " + expected + ": " + e.getMessage());
    }

    /** {@code key} set to the JSON {@code value} is refused with a message containing {@code expected}. */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = ';', value = {
        "head_dim; 0; head_dim must be positive, got 0",
        "head_dim; 15; head_dim 15 must be even",
        "head_dim; \"128\"; head_dim = \"128\" must be an integer",
        "head_dim; 128.0; head_dim = 128.0 must be an integer",
        "num_key_value_heads; 6; num_attention_heads 32 must be a multiple of num_key_value_heads 6",
        "num_key_value_heads; 0; num_key_value_heads must be positive",
        "num_attention_heads; -4; num_attention_heads must be positive",
        "hidden_size; \"big\"; hidden_size = \"big\" must be an integer",
        "intermediate_size; 0; intermediate_size must be positive",
        "vocab_size; 0; vocab_size must be positive",
        "num_hidden_layers; 0; num_hidden_layers must be positive",
        "rms_norm_eps; -1; rms_norm_eps must be positive",
        "rope_theta; \"1e6\"; rope_theta = \"1e6\" must be a number",
        "rope_theta; 0; rope_theta must be positive",
        "max_position_embeddings; 0; max_position_embeddings must be positive",
        "model_type; \"qwen2_5_vl\"; model_type = \"qwen2_5_vl\" must be \"qwen3\"",
        "architectures; [\"Qwen2_5_VLForConditionalGeneration\"]; architectures",
        "architectures; \"Qwen3ForCausalLM\"; architectures = \"Qwen3ForCausalLM\" must be a list of strings",
        "hidden_act; \"gelu\"; hidden_act = \"gelu\" must be \"silu\"",
        "attention_bias; true; attention_bias = true is not supported",
        "attention_bias; \"no\"; attention_bias = \"no\" must be a boolean",
        "use_sliding_window; true; use_sliding_window = true is not supported",
        "layer_types; [\"full_attention\", \"sliding_attention\"]; layer_types",
        "tie_word_embeddings; 1; tie_word_embeddings = 1 must be a boolean",
        "rope_scaling; {\"rope_type\": \"yarn\", \"factor\": 4.0}; rope_scaling.rope_type = \"yarn\" is not supported",
        "rope_scaling; {\"type\": \"dynamic\"}; rope_scaling.rope_type = \"dynamic\" is not supported",
        "rope_scaling; \"yarn\"; rope_scaling = \"yarn\" must be an object",
        "rope_parameters; {\"rope_type\": \"llama3\"}; rope_parameters.rope_type = \"llama3\" is not supported"})
    void badValuesAreRefusedNamingTheKey(String key, String value, String expected) throws Exception {
        ObjectNode n = json();
        n.set(key, JSON.readTree(value));
        assertRejected(expected, n);
    }

    @ParameterizedTest
    @CsvSource({"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
        "intermediate_size", "vocab_size"})
    void requiredKeysMissingOrNullAreNamed(String key) throws Exception {
        ObjectNode n = json();
        n.remove(key);
        assertRejected("missing " + key, n);
        n.putNull(key);
        assertRejected("missing " + key, n);
    }

    @Test
    void unknownKeysAreIgnoredAsForQwenTextEncoderConfig() throws Exception {
        ObjectNode n = json();
        n.put("some_future_key", 7);
        n.putObject("some_future_object").put("x", 4);
        assertEquals(Qwen3TextEncoderConfig.QWEN3_4B, Qwen3TextEncoderConfig.fromJson(n));
    }
}
