package dev.ditfn.onnx;

/**
 * What a graph is built for. The target decides the activation precision, whether ORT's {@code com.microsoft}
 * contrib ops may be emitted (the CANN EP has none, so it gets standard ops only) and whether LayerNorm is one
 * {@code LayerNormalization} node or its decomposition.
 */
public enum GraphTarget {
    // ORT's CPU LayerNormalization kernel takes about 3 ns per element (scalar loops); the seven-node
    // decomposition runs 3-4 times faster on the same provider (docs/benchmarks.md, "CPU runtime").
    CPU_FP32(DType.FLOAT32, true, false),
    CUDA_FP16(DType.FLOAT16, true, true),
    CANN_FP16(DType.FLOAT16, false, true);

    private final DType activation;
    private final boolean contribOps;
    private final boolean fusedLayerNorm;

    GraphTarget(DType activation, boolean contribOps, boolean fusedLayerNorm) {
        this.activation = activation;
        this.contribOps = contribOps;
        this.fusedLayerNorm = fusedLayerNorm;
    }

    /** Whether LayerNorm is emitted as one {@code LayerNormalization} node (else as mean/variance arithmetic). */
    public boolean fusedLayerNorm() {
        return fusedLayerNorm;
    }

    public DType activationType() {
        return activation;
    }

    public boolean allowsContribOps() {
        return contribOps;
    }
}
