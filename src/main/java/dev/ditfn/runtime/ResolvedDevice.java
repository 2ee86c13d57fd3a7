package dev.ditfn.runtime;

import dev.ditfn.config.Device;
import dev.ditfn.onnx.GraphTarget;

import java.util.Optional;

/** The device that was asked for, the one in use, and why they differ (fallback to CPU). */
public record ResolvedDevice(Device requested, Device active, Optional<String> fallbackReason) {

    public static ResolvedDevice as(Device device) {
        return new ResolvedDevice(device, device, Optional.empty());
    }

    /** Graphs are built for the active device: fp32 on CPU, fp16 on CUDA, fp16 and standard ops on CANN. */
    public GraphTarget target() {
        return switch (active) {
            case cpu -> GraphTarget.CPU_FP32;
            case cuda -> GraphTarget.CUDA_FP16;
            case cann -> GraphTarget.CANN_FP16;
        };
    }
}
