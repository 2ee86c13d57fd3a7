package dev.ditfn.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestDefaultsTest {
    private static final RequestDefaults FAMILY = new RequestDefaults(50, 4f, null, 1f, "true_cfg_scale", 256);

    private static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void aSnapshotsDefaultsReplaceTheFamilys() throws Exception {
        RequestDefaults d = FAMILY.overriddenBy(json(
                "{\"num_inference_steps\": 20, \"guidance\": 3.5, \"negative_prompt\": \" \", \"size\": 96}"));
        assertEquals(new RequestDefaults(20, 3.5f, " ", 1f, "true_cfg_scale", 96), d);
        assertTrue(d.cfg(d.cfgScale(), d.negativePrompt()));
    }

    @Test
    void absentOrNullFieldsKeepTheFamilys() throws Exception {
        assertEquals(FAMILY, FAMILY.overriddenBy(null));
        assertEquals(FAMILY, FAMILY.overriddenBy(json("{}")));
        assertEquals(new RequestDefaults(8, 4f, null, 1f, "true_cfg_scale", 256),
                FAMILY.overriddenBy(json("{\"size\": null, \"num_inference_steps\": 8}")));
    }

    @Test
    void unknownMistypedOrOutOfRangeFieldsAreRefusedByName() {
        assertRefused("{\"steps\": 20}", "unknown field 'steps'");
        assertRefused("{\"num_inference_steps\": 2.5}", "_dit_fn_defaults.num_inference_steps must be an integer");
        assertRefused("{\"size\": 8}", "_dit_fn_defaults.size must be an integer in [16, 4096], was 8");
        assertRefused("{\"guidance\": \"4\"}", "_dit_fn_defaults.guidance must be a number");
        assertRefused("{\"negative_prompt\": 1}", "_dit_fn_defaults.negative_prompt must be a string");
        assertRefused("[1]", "_dit_fn_defaults must be an object");
    }

    private static void assertRefused(String snapshot, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FAMILY.overriddenBy(json(snapshot)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
