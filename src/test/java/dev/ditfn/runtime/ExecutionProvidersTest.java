package dev.ditfn.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
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
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Device selection: clear refusals for CUDA and CANN, and the explicit CPU fallback. Holds on the CPU build and on the
 * CUDA build ({@code -Pcuda}) alike; the CUDA refusal tests skip where CUDA actually initialises.
 */
class ExecutionProvidersTest {
    private static final OrtEnvironment ENV = OrtRuntime.environment(0, 1, true);

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

    /** A GPU build on a machine with a usable GPU refuses nothing: the CUDA refusal tests need CUDA to fail. */
    private static void assumeCudaCannotInitialise() {
        assumeFalse(providers(Device.cuda, true, Optional.empty()).resolve().active() == Device.cuda,
                "CUDA initialises on this machine, so there is no refusal to check");
    }

    /** Our words for a CUDA that cannot start: what is missing differs between the CPU and the CUDA build. */
    private static void assertCudaRefusal(String message) {
        assertMentions(message, "dit.device=cuda: the CUDA execution provider cannot be initialised", "cuDNN 9",
                "Or set dit.device=cpu, or dit.fallback-to-cpu=true to run on CPU", "ONNX Runtime said:");
        if (OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            assertMentions(message, "the CUDA 12 runtime", "(on LD_LIBRARY_PATH)", "GPU 0");
        } else {
            assertMentions(message, "the onnxruntime_gpu artifact", "./mvnw -B package -Pcuda");
        }
    }

    @Test
    void cudaRefusalSaysWhatIsMissingAndHowToFixIt() {
        assumeCudaCannotInitialise();
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> providers(Device.cuda, false, Optional.empty()).resolve());
        assertCudaRefusal(e.getMessage());
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
        assumeCudaCannotInitialise();
        ExecutionProviders p = providers(Device.cuda, true, Optional.empty());
        ResolvedDevice d = p.resolve();
        assertEquals(Device.cuda, d.requested());
        assertEquals(Device.cpu, d.active());
        assertEquals(GraphTarget.CPU_FP32, d.target());
        assertCudaRefusal(d.fallbackReason().orElseThrow());
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
