package dev.ditfn.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.model.text.TinyTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

class QwenTextEncoderConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The language part of Qwen-Image's text_encoder/config.json, keys at the top level (spec §1). */
    private static final String LEGACY = """
            {"architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
             "hidden_size": 3584, "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
             "intermediate_size": 18944, "hidden_act": "silu", "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
             "rope_scaling": {"type": "mrope", "rope_type": "default", "mrope_section": [16, 24, 24]},
             "vocab_size": 152064, "max_position_embeddings": 128000, "tie_word_embeddings": false,
             "vision_config": {"hidden_size": 1280, "depth": 32}}
            """;

    /** The same under text_config (newer transformers), top level holding only what is shared. */
    private static final String NESTED = """
            {"architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
             "vision_config": {"hidden_size": 1280},
             "text_config": {"hidden_size": 3584, "num_hidden_layers": 28, "num_attention_heads": 28,
               "num_key_value_heads": 4, "intermediate_size": 18944, "hidden_act": "silu", "rms_norm_eps": 1e-06,
               "rope_theta": 1000000.0, "vocab_size": 152064,
               "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}}}
            """;

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void readsTopLevelAndTextConfigLayouts() throws Exception {
        assertEquals(QwenTextEncoderConfig.QWEN2_5_VL_7B, QwenTextEncoderConfig.fromJson(json(LEGACY)));
        assertEquals(QwenTextEncoderConfig.QWEN2_5_VL_7B, QwenTextEncoderConfig.fromJson(json(NESTED)));
        QwenTextEncoderConfig c = QwenTextEncoderConfig.QWEN2_5_VL_7B;
        assertEquals(128, c.headDim());
        assertEquals(233_057_792L, c.parametersPerLayer());
        assertEquals(7_070_619_136L, c.parameterCount());
    }

    @Test
    void topLevelWinsOverTextConfig() throws Exception {
        ObjectNode n = (ObjectNode) json(NESTED);
        n.put("num_hidden_layers", 3);
        assertEquals(3, QwenTextEncoderConfig.fromJson(n).numHiddenLayers());
    }

    @Test
    void readsRopeParametersOfNewerFiles() throws Exception {
        ObjectNode n = (ObjectNode) json(LEGACY);
        n.remove("rope_scaling");
        n.remove("rope_theta");
        n.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 5e5).putArray("mrope_section")
                .add(16).add(24).add(24);
        QwenTextEncoderConfig c = QwenTextEncoderConfig.fromJson(n);
        assertEquals(5e5, c.ropeTheta());
        assertArrayEquals(new int[] {16, 24, 24}, c.mropeSection());
    }

    @Test
    void toJsonRoundTrips() {
        for (QwenTextEncoderConfig c : new QwenTextEncoderConfig[] {QwenTextEncoderConfig.TINY,
                QwenTextEncoderConfig.QWEN2_5_VL_7B}) {
            ObjectNode n = c.toJson();
            assertEquals("Qwen2_5_VLForConditionalGeneration", n.path("_class_name").asText());
            assertEquals("Qwen2_5_VLForConditionalGeneration", n.path("architectures").get(0).asText());
            assertEquals(c, QwenTextEncoderConfig.fromJson(n));
        }
    }

    @Test
    void tinyPresetFitsTheTinyTokenizer() {
        QwenTextEncoderConfig t = QwenTextEncoderConfig.TINY;
        assertEquals(32, t.hiddenSize());
        assertEquals(2, t.numHiddenLayers());
        assertEquals(4, t.numAttentionHeads());
        assertEquals(2, t.numKeyValueHeads());
        assertEquals(64, t.intermediateSize());
        assertEquals(8, t.headDim());
        assertArrayEquals(new int[] {1, 1, 2}, t.mropeSection());
        assertEquals(TinyTokenizer.VOCAB_SIZE, t.vocabSize());
        t.checkTokenizer(TinyTokenizer.tokenizer());
        // The real tokenizer's ids go up to 151664: a small vocab_size is refused.
        ByteLevelBpeTokenizer big = new ByteLevelBpeTokenizer(Map.of("a", 0), java.util.List.of(),
                Map.of("<|im_end|>", 151645), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.checkTokenizer(big));
        assertTrue(e.getMessage().contains("vocab_size"), e.getMessage());
        QwenTextEncoderConfig.QWEN2_5_VL_7B.checkTokenizer(big);
    }

    private static void assertRejected(String key, Map<String, Object> changes) throws Exception {
        ObjectNode n = (ObjectNode) json(LEGACY);
        changes.forEach((k, v) -> n.set(k, JSON.valueToTree(v)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QwenTextEncoderConfig.fromJson(n));
        assertTrue(e.getMessage().contains(key), "message names " + key + ": " + e.getMessage());
    }

    @Test
    void validationNamesTheKeys() throws Exception {
        assertRejected("num_attention_heads", Map.of("num_attention_heads", 27));
        assertRejected("num_key_value_heads", Map.of("num_key_value_heads", 5));
        assertRejected("mrope_section", Map.of("rope_scaling", Map.of("mrope_section", new int[] {16, 24, 16})));
        assertRejected("hidden_act", Map.of("hidden_act", "gelu"));
        assertRejected("head_dim", Map.of("head_dim", 64));
        assertRejected("vocab_size", Map.of("vocab_size", 0));
        assertRejected("rms_norm_eps", Map.of("rms_norm_eps", -1));
        assertRejected("hidden_size", Map.of("hidden_size", "big"));
        ObjectNode n = (ObjectNode) json(LEGACY);
        n.remove("intermediate_size");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QwenTextEncoderConfig.fromJson(n));
        assertTrue(e.getMessage().contains("intermediate_size") && e.getMessage().contains("text_config"),
                e.getMessage());
    }

    /**
     * A value of the wrong JSON type fails naming the key (with its path under text_config or rope_scaling) and the
     * value, never coerced or ignored; {@code changes} are merged into the layout given, one level deep.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = ';', value = {
        "LEGACY; {\"head_dim\": \"128\"}; head_dim = \"128\" must be an integer",
        "LEGACY; {\"rope_theta\": \"1e6\"}; rope_theta = \"1e6\" must be a number",
        "LEGACY; {\"hidden_act\": 5}; hidden_act = 5 must be a string",
        "LEGACY; {\"rope_scaling\": \"mrope\"}; rope_scaling = \"mrope\" must be an object",
        "LEGACY; {\"rope_scaling\": {\"mrope_section\": [16.0, 24, 24]}};"
                + " rope_scaling.mrope_section = [16.0,24,24] must be a list of integers",
        "NESTED; {\"text_config\": [1]}; text_config = [1] must be an object",
        "NESTED; {\"text_config\": {\"vocab_size\": 152064.0}}; text_config.vocab_size = 152064.0 must be an integer"})
    void wronglyTypedKeyFailsNamingTheKey(String layout, String changes, String expected) throws Exception {
        ObjectNode n = (ObjectNode) json(layout.equals("LEGACY") ? LEGACY : NESTED);
        json(changes).fields().forEachRemaining(f -> {
            JsonNode old = n.get(f.getKey());
            if (old instanceof ObjectNode o && f.getValue().isObject()) {
                o.setAll((ObjectNode) f.getValue());
            } else {
                n.set(f.getKey(), f.getValue());
            }
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QwenTextEncoderConfig.fromJson(n));
        assertEquals("invalid text_encoder config.json: " + expected, e.getMessage());
    }

    @Test
    void missingRopeKeysFallBackToTheConfigClassDefaults() throws Exception {
        ObjectNode n = (ObjectNode) json(LEGACY);
        n.remove("rope_scaling");
        n.remove("rope_theta");
        n.remove("rms_norm_eps");
        QwenTextEncoderConfig c = QwenTextEncoderConfig.fromJson(n);
        assertEquals(1e6, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(0, c.mropeSection().length);
    }
}
