package dev.ditfn.app;

import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.RequestDefaults;
import dev.ditfn.testing.TestConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServedDefaultsTest {
    private static final RequestDefaults MODEL = new RequestDefaults(20, 4f, " ", 1f, "true_cfg_scale", 96);

    private static DitConfig.Generate limits(Map<String, String> properties) {
        return TestConfig.load(properties).generate();
    }

    @Test
    void theConfiguredSizeWinsOverTheModels() {
        assertEquals(96, ServedDefaults.size(limits(Map.of()), MODEL));
        assertEquals(128, ServedDefaults.size(limits(Map.of("dit.generate.default-size", "128")), MODEL));
    }

    @Test
    void defaultsThatNoRequestCouldUseFailTheLoadNamingTheirSource() {
        ServedDefaults.check(limits(Map.of()), MODEL, 16);
        IllegalArgumentException notAMultiple = assertThrows(IllegalArgumentException.class,
                () -> ServedDefaults.check(limits(Map.of()), new RequestDefaults(20, 4f, " ", 1f, "true_cfg_scale", 100), 16));
        assertTrue(notAMultiple.getMessage().startsWith("the model's default size (_dit_fn_defaults.size, else 256) "
                + "100 must be a multiple of 16"), notAMultiple.getMessage());
        IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
                () -> ServedDefaults.check(limits(Map.of("dit.generate.default-size", "512",
                        "dit.generate.max-size", "256")), MODEL, 16));
        assertTrue(tooLarge.getMessage().startsWith("dit.generate.default-size 512"), tooLarge.getMessage());
        IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                () -> ServedDefaults.check(limits(Map.of("dit.generate.max-steps", "10")), MODEL, 16));
        assertEquals("the model's default steps (_dit_fn_defaults.num_inference_steps) 20 exceeds "
                + "dit.generate.max-steps 10", steps.getMessage());
    }
}
