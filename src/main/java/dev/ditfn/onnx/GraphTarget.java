package dev.ditfn.onnx;

/**
 * What a graph is built for. The target decides the activation precision and whether ORT's
 * {@code com.microsoft} contrib ops may be emitted (the CANN EP has none, so it gets standard ops only).
 */
public enum GraphTarget {
    CPU_FP32(DType.FLOAT32, true),
    CUDA_FP16(DType.FLOAT16, true),
    CANN_FP16(DType.FLOAT16, false);

    private final DType activation;
    private final boolean contribOps;

    GraphTarget(DType activation, boolean contribOps) {
        this.activation = activation;
        this.contribOps = contribOps;
    }

    public DType activationType() {
        return activation;
    }

    public boolean allowsContribOps() {
        return contribOps;
    }
}
