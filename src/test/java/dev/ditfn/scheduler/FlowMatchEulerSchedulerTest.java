package dev.ditfn.scheduler;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowMatchEulerSchedulerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Qwen-Image's published scheduler_config.json values. */
    static final String QWEN = "{\"num_train_timesteps\":1000,\"shift\":1.0,\"use_dynamic_shifting\":true,"
            + "\"base_shift\":0.5,\"max_shift\":0.9,\"base_image_seq_len\":256,\"max_image_seq_len\":8192,"
            + "\"shift_terminal\":0.02,\"time_shift_type\":\"exponential\",\"invert_sigmas\":false}";

    static FlowMatchEulerScheduler scheduler(String json) throws Exception {
        return new FlowMatchEulerScheduler(FlowMatchEulerScheduler.Config.fromJson(JSON.readTree(json)));
    }

    @Test
    void muFor1024SquareMatchesTheSpec() throws Exception {
        assertEquals(0.693548, scheduler(QWEN).mu(4096), 1e-6);
    }

    @Test
    void fourStepsAt1024MatchTheSpecCheckValues() throws Exception {
        float[] s = scheduler(QWEN).sigmas(4, 4096);
        assertArrayEquals(new float[] {1.0f, 0.766709f, 0.455614f, 0.02f, 0f}, s, 1e-6f);
    }

    @Test
    void fiftyStepsAt1024MatchTheSpecCheckValues() throws Exception {
        float[] s = scheduler(QWEN).sigmas(50, 4096);
        assertEquals(51, s.length);
        assertArrayEquals(new float[] {1.0f, 0.989701f, 0.979192f}, new float[] {s[0], s[1], s[2]}, 1e-6f);
        assertArrayEquals(new float[] {0.095499f, 0.058476f, 0.02f, 0f}, new float[] {s[47], s[48], s[49], s[50]}, 1e-6f);
    }

    @Test
    void handComputedSecondSigma() throws Exception {
        // 256 tokens: mu = 0.5 exactly; two steps: linspace 1, 0.5, and the stretch pins the last at 0.02
        assertEquals(0.5, scheduler(QWEN).mu(256), 1e-7);
        assertArrayEquals(new float[] {1f, 0.02f, 0f}, scheduler(QWEN).sigmas(2, 256), 1e-7f);
        // three steps: e^0.5 = 1.6487213; shifted 2/3 -> e/(e + 0.5) = 0.7673035, 1/3 -> e/(e + 2) = 0.4518628;
        // stretched 1 - (1 - 0.7673035)·0.98/(1 - 0.4518628) = 0.5839680
        assertArrayEquals(new float[] {1f, 0.5839680f, 0.02f, 0f}, scheduler(QWEN).sigmas(3, 256), 1e-6f);
    }

    /**
     * Three steps at 1024 image tokens (512×512), by hand from qwen-image-spec §5.3:
     * mu = 0.5 + (1024 − 256)·(0.9 − 0.5)/(8192 − 256) = 0.5 + 6/155 = 0.5387097, e^mu = 1.7137941;
     * linspace(1, 1/3, 3) = 1, 2/3, 1/3, so 1/σ − 1 = 0, 0.5, 2;
     * exponential shift e^mu/(e^mu + (1/σ − 1)) = 1, 0.7741434, 0.4614672;
     * terminal stretch 1 − (1 − σ)·0.98/(1 − 0.4614672): 1, 0.5889954, 0.02.
     */
    @Test
    void threeStepsAt512SquareAreTheHandComputedShiftedSigmas() throws Exception {
        assertEquals(0.5387097, scheduler(QWEN).mu(1024), 1e-6);
        assertArrayEquals(new float[] {1f, 0.5889954f, 0.02f, 0f}, scheduler(QWEN).sigmas(3, 1024), 1e-6f);
        // without shift_terminal the shifted values themselves come out
        String noTerminal = QWEN.replace("\"shift_terminal\":0.02", "\"shift_terminal\":null");
        assertArrayEquals(new float[] {1f, 0.7741434f, 0.4614672f, 0f}, scheduler(noTerminal).sigmas(3, 1024), 1e-6f);
    }

    @Test
    void handComputedShiftWithoutTerminal() throws Exception {
        // 2 steps at 256 tokens: mu = 0.5, linspace [1, 0.5]: the second sigma is e^0.5 / (e^0.5 + 1) = 0.6224593
        float[] s = scheduler(QWEN.replace("\"shift_terminal\":0.02", "\"shift_terminal\":null")).sigmas(2, 256);
        assertArrayEquals(new float[] {1f, 0.6224593f, 0f}, s, 1e-6f);
    }

    /** diffusers tests {@code if self.config.shift_terminal:}, so 0.0 means no stretch, exactly like null. */
    @Test
    void aZeroShiftTerminalStretchesNothing() throws Exception {
        float[] s = scheduler(QWEN.replace("\"shift_terminal\":0.02", "\"shift_terminal\":0.0")).sigmas(2, 256);
        assertArrayEquals(new float[] {1f, 0.6224593f, 0f}, s, 1e-6f);
    }

    /** One step has nothing to stretch (its sigma is first and last): it runs from 1 to 0, with or without shift. */
    @Test
    void oneStepRunsFromOneToZero() throws Exception {
        for (String config : new String[] {QWEN, "{\"shift\":3.0,\"shift_terminal\":0.1}", "{}"}) {
            assertArrayEquals(new float[] {1f, 0f}, scheduler(config).sigmas(1, 4096), config);
        }
    }

    @Test
    void everyAcceptedStepCountGivesFiniteSigmasFromOneDownToZero() throws Exception {
        FlowMatchEulerScheduler qwen = scheduler(QWEN);
        for (int tokens : new int[] {16, 4096}) {
            for (int steps = 1; steps <= 1000; steps++) {
                float[] s = qwen.sigmas(steps, tokens);
                assertEquals(1f, s[0], steps + " steps");
                assertEquals(0f, s[steps], steps + " steps");
                for (int i = 1; i <= steps; i++) {
                    assertTrue(Float.isFinite(s[i]) && s[i] < s[i - 1], steps + " steps: sigma " + i + " = " + s[i]);
                }
            }
        }
    }

    @Test
    void defaultConfigWithoutShiftKeepsThePlainLinspace() throws Exception {
        float[] s = scheduler("{}").sigmas(4, 1234);
        assertArrayEquals(new float[] {1f, 0.75f, 0.5f, 0.25f, 0f}, s, 1e-7f);
    }

    @Test
    void staticShift() throws Exception {
        float[] s = scheduler("{\"shift\":3.0}").sigmas(2, 1);
        assertArrayEquals(new float[] {1f, 0.75f, 0f}, s, 1e-7f); // 3*0.5/(1+2*0.5)
    }

    @Test
    void eulerStepIsXPlusDtTimesV() {
        float[] x = {1f, 2f, -1f};
        FlowMatchEulerScheduler.step(x, new float[] {0.5f, -1f, 2f}, 0.8f, 0.6f);
        assertArrayEquals(new float[] {0.9f, 2.2f, -1.4f}, x, 1e-6f);
    }

    /** A wrongly typed value fails naming the file, the key and the value instead of becoming the default. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "\"shift\": \"abc\"                ; shift = \"abc\" must be a number",
        "\"num_train_timesteps\": 1000.5     ; num_train_timesteps = 1000.5 must be an integer",
        "\"use_dynamic_shifting\": \"yes\" ; use_dynamic_shifting = \"yes\" must be a boolean",
        "\"time_shift_type\": 1            ; time_shift_type = 1 must be a string",
        "\"shift_terminal\": \"0.02\"      ; shift_terminal = \"0.02\" must be a number"})
    void wronglyTypedKeysAreRefusedByName(String change, String expected) throws Exception {
        ObjectNode config = (ObjectNode) JSON.readTree(QWEN);
        config.setAll((ObjectNode) JSON.readTree("{" + change + "}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FlowMatchEulerScheduler.Config.fromJson(config));
        assertEquals("invalid scheduler_config.json: " + expected, e.getMessage());
    }

    @Test
    void unsupportedOptionsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> scheduler("{\"use_karras_sigmas\":true}"));
        assertTrue(e.getMessage().contains("use_karras_sigmas"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> scheduler(QWEN).sigmas(0, 16));
    }
}
