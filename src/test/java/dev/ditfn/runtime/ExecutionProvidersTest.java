package dev.ditfn.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession.SessionOptions;
import dev.ditfn.config.Device;
import dev.ditfn.onnx.GraphTarget;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device selection on this CPU-only machine: clear refusals for CUDA and CANN, and the explicit CPU fallback. */
class ExecutionProvidersTest {
    private static final OrtEnvironment ENV = OrtRuntime.environment(0, 1);

    private static ExecutionProviders providers(Device device, boolean fallback, Optional<String> cannLibrary) {
        return new ExecutionProviders(ENV, new ExecutionProviders.Settings(device, 0, fallback, Map.of(), cannLibrary,
                "CANNExecutionProvider", Map.of()));
    }

    private static void assertMentions(String message, String... fragments) {
        for (String f : fragments) {
            assertTrue(message.contains(f), "expected '" + f + "' in: " + message);
        }
    }

    @Test
    void cpuNeedsNothing() {
        ResolvedDevice d = providers(Device.cpu, false, Optional.empty()).resolve();
        assertEquals(Device.cpu, d.active());
        assertEquals(GraphTarget.CPU_FP32, d.target());
        assertTrue(d.fallbackReason().isEmpty());
    }

    @Test
    void cudaWithoutTheGpuBuildSaysWhatIsMissingAndHowToFixIt() {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> providers(Device.cuda, false, Optional.empty()).resolve());
        assertMentions(e.getMessage(), "dit.device=cuda", "CUDA", "onnxruntime_gpu", "-Pcuda", "cuDNN 9",
                "dit.fallback-to-cpu=true", "ONNX Runtime said:");
    }

    @Test
    void cannWithoutABindingSaysWhatIsMissingAndHowToFixIt() {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> providers(Device.cann, false, Optional.empty()).resolve());
        assertMentions(e.getMessage(), "dit.device=cann", "CANN", "dit.cann.provider-library", "addCANN(Map)",
                "set_env.sh", "dit.fallback-to-cpu=true");
    }

    @Test
    void cannPluginLibraryThatCannotLoadIsNamedWithOrtsReason() {
        String lib = "/nonexistent/libonnxruntime_providers_cann_plugin.so";
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> providers(Device.cann, false, Optional.of(lib)).resolve());
        assertMentions(e.getMessage(), "dit.device=cann", lib, "ONNX Runtime said:", "No such file");
    }

    @Test
    void fallbackRunsOnCpuAndKeepsTheReason() throws Exception {
        ExecutionProviders p = providers(Device.cuda, true, Optional.empty());
        ResolvedDevice d = p.resolve();
        assertEquals(Device.cuda, d.requested());
        assertEquals(Device.cpu, d.active());
        assertEquals(GraphTarget.CPU_FP32, d.target());
        assertMentions(d.fallbackReason().orElseThrow(), "CUDA", "onnxruntime_gpu");
        try (SessionOptions options = new SessionOptions()) {
            assertDoesNotThrow(() -> p.apply(options));
        }
    }

    @Test
    void resolutionHappensOnce() {
        ExecutionProviders p = providers(Device.cann, true, Optional.empty());
        assertTrue(p.resolve() == p.resolve());
    }
}
