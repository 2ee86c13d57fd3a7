package dev.ditfn.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtEpDevice;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import dev.ditfn.config.Device;
import org.jboss.logging.Logger;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses and attaches the execution provider for the configured device. {@link #resolve} checks once, at
 * startup, that the device can be initialised; afterwards {@link #apply} adds it to each session's options.
 *
 * <p>CUDA uses the official {@code addCUDA}. Official ORT Java has no CANN binding, so CANN comes either from a
 * plugin EP library ({@code registerExecutionProviderLibrary} + {@code getEpDevices}) or from an ORT build whose
 * {@code SessionOptions} exposes {@code addCANN(Map)}, found reflectively.
 */
public final class ExecutionProviders {
    private static final Logger LOG = Logger.getLogger(ExecutionProviders.class);
    private static final String CANN_PLUGIN_REGISTRATION = "dit-fn-cann";

    /** What {@link ExecutionProviders} needs to know about the device settings. */
    public record Settings(Device device, int deviceId, boolean fallbackToCpu, Map<String, String> cudaOptions,
            Optional<String> cannProviderLibrary, String cannEpName, Map<String, String> cannOptions) {
    }

    private final OrtEnvironment env;
    private final Settings settings;
    private ResolvedDevice resolved;
    private List<OrtEpDevice> cannPluginDevices = List.of();

    public ExecutionProviders(OrtEnvironment env, Settings settings) {
        this.env = env;
        this.settings = settings;
    }

    /**
     * Initialises the configured device once.
     *
     * @throws DeviceUnavailableException when it cannot be initialised and falling back to CPU is not allowed
     */
    public synchronized ResolvedDevice resolve() {
        if (resolved != null) {
            return resolved;
        }
        Device device = settings.device();
        if (device == Device.cpu) {
            return resolved = ResolvedDevice.as(Device.cpu);
        }
        try (SessionOptions probe = new SessionOptions()) {
            attach(device, probe);
            resolved = ResolvedDevice.as(device);
        } catch (DeviceUnavailableException e) {
            if (!settings.fallbackToCpu()) {
                throw e;
            }
            LOG.warnf("dit.device=%s is unavailable, running on CPU because dit.fallback-to-cpu=true: %s", device,
                    e.getMessage());
            resolved = new ResolvedDevice(device, Device.cpu, Optional.of(e.getMessage()));
        }
        return resolved;
    }

    /** Adds the resolved device's execution provider to {@code options} (CPU needs nothing). */
    public void apply(SessionOptions options) {
        ResolvedDevice device = resolve();
        if (device.active() != Device.cpu) {
            attach(device.active(), options);
        }
    }

    private void attach(Device device, SessionOptions options) {
        switch (device) {
            case cuda -> attachCuda(options);
            case cann -> attachCann(options);
            case cpu -> { }
        }
    }

    private void attachCuda(SessionOptions options) {
        boolean compiledIn = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
        try {
            OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(settings.deviceId());
            for (Map.Entry<String, String> e : settings.cudaOptions().entrySet()) {
                cuda.add(e.getKey(), e.getValue());
            }
            options.addCUDA(cuda);
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            String what = compiledIn
                    ? "the CUDA 12 runtime and cuDNN 9 libraries (on LD_LIBRARY_PATH) and an NVIDIA driver with GPU "
                            + settings.deviceId()
                    : "the onnxruntime_gpu artifact (this build has the CPU-only onnxruntime: rebuild with "
                            + "./mvnw -B package -Pcuda) and the CUDA 12 + cuDNN 9 libraries";
            throw new DeviceUnavailableException("dit.device=cuda: the CUDA execution provider cannot be initialised. "
                    + "It needs " + what + ". Or set dit.device=cpu, or dit.fallback-to-cpu=true to run on CPU. "
                    + "ONNX Runtime said: " + reason(e), e);
        }
    }

    private void attachCann(SessionOptions options) {
        if (settings.cannProviderLibrary().isPresent()) {
            attachCannPlugin(options, settings.cannProviderLibrary().get());
            return;
        }
        Optional<Method> addCann = cannMethod();
        if (addCann.isEmpty()) {
            throw new DeviceUnavailableException("dit.device=cann: this ONNX Runtime build has no CANN support "
                    + "(official onnxruntime Java has no CANN binding). Provide one of: (1) a CANN plugin "
                    + "execution-provider library, set dit.cann.provider-library=/path/to/the/plugin.so "
                    + "(and dit.cann.ep-name if it registers another name than " + settings.cannEpName() + "); "
                    + "(2) an ONNX Runtime built with --use_cann whose Java SessionOptions has addCANN(Map), on the "
                    + "classpath instead of com.microsoft.onnxruntime:onnxruntime. Either needs the Ascend CANN "
                    + "toolkit (source set_env.sh from ascend-toolkit). Or set dit.device=cpu, or "
                    + "dit.fallback-to-cpu=true to run on CPU.", null);
        }
        Map<String, String> opts = new java.util.LinkedHashMap<>(settings.cannOptions());
        opts.putIfAbsent("device_id", Integer.toString(settings.deviceId()));
        try {
            addCann.get().invoke(options, opts);
        } catch (IllegalAccessException | InvocationTargetException e) {
            Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            throw new DeviceUnavailableException("dit.device=cann: addCANN failed; check the CANN toolkit "
                    + "(set_env.sh) and NPU " + settings.deviceId() + ". ONNX Runtime said: " + reason(cause), cause);
        }
    }

    private static Optional<Method> cannMethod() {
        try {
            return Optional.of(SessionOptions.class.getMethod("addCANN", Map.class));
        } catch (NoSuchMethodException e) {
            return Optional.empty();
        }
    }

    private synchronized void attachCannPlugin(SessionOptions options, String library) {
        try {
            if (cannPluginDevices.isEmpty()) {
                env.registerExecutionProviderLibrary(CANN_PLUGIN_REGISTRATION, library);
                List<OrtEpDevice> all = env.getEpDevices();
                cannPluginDevices = all.stream().filter(d -> d.getEpName().equals(settings.cannEpName())).toList();
                if (cannPluginDevices.isEmpty()) {
                    env.unregisterExecutionProviderLibrary(CANN_PLUGIN_REGISTRATION);
                    throw new DeviceUnavailableException("dit.device=cann: plugin library " + library
                            + " registered no device for EP '" + settings.cannEpName() + "' (devices found: "
                            + all.stream().map(OrtEpDevice::getEpName).toList()
                            + "). Check dit.cann.ep-name and that the NPU is visible (npu-smi info).", null);
                }
            }
            int index = Math.min(settings.deviceId(), cannPluginDevices.size() - 1);
            options.addExecutionProvider(List.of(cannPluginDevices.get(index)), settings.cannOptions());
        } catch (OrtException e) {
            throw new DeviceUnavailableException("dit.device=cann: cannot load the CANN plugin library " + library
                    + ". It must be an ONNX Runtime plugin EP built for ORT 1.29 with the CANN toolkit on the "
                    + "library path (source set_env.sh from ascend-toolkit). ONNX Runtime said: " + reason(e), e);
        }
    }

    private static String reason(Throwable e) {
        return e == null ? "(no reason given)" : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
