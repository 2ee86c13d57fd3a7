package dev.ditfn.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import org.junit.jupiter.api.Test;

/** {@link QwenVisionConfig}: the published 7B {@code vision_config}, defaults, strict types, the JSON round trip. */
class QwenVisionConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The published Qwen2.5-VL-7B / Qwen-Image {@code vision_config} (older key {@code in_chans}). */
    private static final String PUBLISHED = """
            {"model_type": "qwen2_5_vl", "hidden_size": 3584, "vision_config": {
              "depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
              "in_chans": 3, "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2,
              "spatial_patch_size": 14, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31],
              "tokens_per_second": 2, "temporal_patch_size": 2}}""";

    private static QwenVisionConfig read(String json) throws Exception {
        return QwenVisionConfig.fromJson(JSON.readTree(json));
    }

    @Test
    void publishedConfigIsThe7BPreset() throws Exception {
        QwenVisionConfig c = read(PUBLISHED);
        assertEquals(QwenVisionConfig.QWEN2_5_VL_7B, c);
        assertEquals(80, c.headDim());
        assertEquals(1176, c.patchFeatures());
        assertEquals(5120, c.mergerWidth());
        assertEquals(4, c.mergedWindow());
        assertTrue(c.fullAttention(31));
        assertFalse(c.fullAttention(30));
    }

    @Test
    void defaultsApplyToOptionalKeysOnly() throws Exception {
        QwenVisionConfig c = read("""
                {"vision_config": {"depth": 2, "hidden_size": 32, "num_heads": 2, "intermediate_size": 48,
                  "out_hidden_size": 32, "fullatt_block_indexes": [1]}}""");
        assertEquals(14, c.patchSize());
        assertEquals(2, c.temporalPatchSize());
        assertEquals(2, c.spatialMergeSize());
        assertEquals(112, c.windowSize());
        assertEquals(3, c.inChannels());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("""
                {"vision_config": {"depth": 2, "num_heads": 2, "intermediate_size": 48, "out_hidden_size": 32}}"""));
        assertTrue(e.getMessage().contains("vision_config.hidden_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read("{\"hidden_size\": 3}"));
        assertTrue(e.getMessage().contains("vision_config"), e.getMessage());
    }

    @Test
    void wrongTypesAndValuesAreRefusedWithTheirKey() {
        String base = "{\"vision_config\": {\"depth\": 4, \"hidden_size\": 32, \"num_heads\": 2, "
                + "\"intermediate_size\": 48, \"out_hidden_size\": 32, ";
        for (String[] bad : new String[][] {
            {"\"fullatt_block_indexes\": [1, 4]}}", "fullatt_block_indexes"},
            {"\"patch_size\": 14.5}}", "vision_config.patch_size"},
            {"\"hidden_act\": \"gelu\"}}", "hidden_act"},
            {"\"window_size\": 14}}", "window_size"},
            {"\"spatial_merge_size\": 0}}", "spatial_merge_size"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(base + bad[0]));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QwenVisionConfig(1, 20, 2, 8, 8, 14, 2, 2, 112, 3, new int[0]));
        assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
    }

    @Test
    void toJsonNestsUnderATextEncoderConfigAndReadsBack() {
        ObjectNode top = QwenTextEncoderConfig.TINY.toJson();
        top.set("vision_config", QwenVisionConfig.TINY.toJson());
        assertEquals(QwenVisionConfig.TINY, QwenVisionConfig.fromJson(top));
        assertEquals(QwenTextEncoderConfig.TINY, QwenTextEncoderConfig.fromJson(top));
        JsonNode v = top.get("vision_config");
        assertArrayEquals(new int[] {1, 3}, QwenVisionConfig.TINY.fullattBlockIndexes());
        assertEquals(2, v.get("fullatt_block_indexes").size());
        assertEquals(QwenTextEncoderConfig.TINY.hiddenSize(), QwenVisionConfig.TINY.outHiddenSize());
    }
}
