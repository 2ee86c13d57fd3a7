package dev.ditfn.onnx;

/**
 * What a graph is built for. The target decides the activation precision, whether ORT's {@code com.microsoft}
 * contrib ops may be emitted (the CANN EP has none, so it gets standard ops only), whether LayerNorm is one
 * {@code LayerNormalization} node or its decomposition, and how a linear is emitted.
 */
public enum GraphTarget {
    // ORT's CPU LayerNormalization kernel takes about 3 ns per element (scalar loops); the decomposition runs
    // 3-4 times faster on the same provider. A linear as one FusedMatMul on the 3-D input skips the reshapes around a
    // 2-D Gemm, nodes that cost microseconds each on CPU (docs/benchmarks.md, "CPU runtime").
    CPU_FP32(DType.FLOAT32, true, false, true),
    CUDA_FP16(DType.FLOAT16, true, true, false),
    CANN_FP16(DType.FLOAT16, false, true, false);

    private final DType activation;
    private final boolean contribOps;
    private final boolean fusedLayerNorm;
    private final boolean fusedMatMulLinear;

    GraphTarget(DType activation, boolean contribOps, boolean fusedLayerNorm, boolean fusedMatMulLinear) {
        this.activation = activation;
        this.contribOps = contribOps;
        this.fusedLayerNorm = fusedLayerNorm;
        this.fusedMatMulLinear = fusedMatMulLinear;
    }

    /**
     * Whether a full-precision linear is {@code com.microsoft:FusedMatMul} (transB) on its N-d input plus the bias
     * (else a 2-D Gemm between reshapes).
     */
    public boolean fusedMatMulLinear() {
        return fusedMatMulLinear;
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
