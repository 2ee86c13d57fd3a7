package dev.ditfn.onnx;

import java.util.List;

/**
 * Which linear weights a graph stores block-quantized, and how: symmetric {@code bits}-bit integers (4 or 8) with one
 * scale per {@code blockSize} consecutive input features of each output row, run by ORT's
 * {@code com.microsoft:MatMulNBits}. A 2-D weight {@code [out, in]} is quantized when {@code in >= blockSize} and its
 * name starts with none of {@code keepPrefixes} (the tensors a family keeps in full precision).
 *
 * @param accuracyLevel MatMulNBits' {@code accuracy_level}: 0 (default) computes in the activation type on the
 *     dequantized weight; 4 lets the CPU kernel quantize the activations to int8 per block too (faster int8 GEMMs on
 *     CPUs with integer dot products, slightly less accurate)
 */
public record WeightQuantization(int bits, int blockSize, List<String> keepPrefixes, int accuracyLevel) {
    /** Full precision everywhere. */
    public static final WeightQuantization NONE = new WeightQuantization(0, 0, List.of(), 0);

    public WeightQuantization {
        keepPrefixes = List.copyOf(keepPrefixes);
        if (bits != 0 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("quantization bits must be 4 or 8, was " + bits);
        }
        if (bits != 0 && blockSize != 32 && blockSize != 64 && blockSize != 128) {
            throw new IllegalArgumentException("quantization block size must be 32, 64 or 128, was " + blockSize);
        }
        if (accuracyLevel != 0 && accuracyLevel != 4) {
            throw new IllegalArgumentException("quantization accuracy level must be 0 or 4, was " + accuracyLevel);
        }
    }

    public static WeightQuantization of(int bits, int blockSize) {
        return new WeightQuantization(bits, blockSize, List.of(), 0);
    }

    /** The same with MatMulNBits' {@code accuracy_level} (0 or 4). */
    public WeightQuantization withAccuracyLevel(int level) {
        return enabled() ? new WeightQuantization(bits, blockSize, keepPrefixes, level) : this;
    }

    public boolean enabled() {
        return bits != 0;
    }

    /** The same settings, also keeping tensors whose names start with one of {@code prefixes} in full precision. */
    public WeightQuantization keeping(String... prefixes) {
        if (!enabled()) {
            return this;
        }
        List<String> all = new java.util.ArrayList<>(keepPrefixes);
        all.addAll(List.of(prefixes));
        return new WeightQuantization(bits, blockSize, all, accuracyLevel);
    }

    /** Whether the linear weight {@code name} of shape {@code [out, in]} is stored quantized. */
    public boolean appliesTo(String name, long[] shape) {
        if (!enabled() || shape.length != 2 || shape[1] < blockSize || shape[0] < 1) {
            return false;
        }
        return keepPrefixes.stream().noneMatch(name::startsWith);
    }

    /** Blocks along the input axis of a weight with {@code k} inputs (the last one zero-padded). */
    public long blocks(long k) {
        return (k + blockSize - 1) / blockSize;
    }

    /** Bytes of one block's packed values. */
    public int blobBytes() {
        return blockSize * bits / 8;
    }

    /** "int8/32", "int4/64" or "none", for logs and reports. */
    @Override
    public String toString() {
        return enabled() ? "int" + bits + "/" + blockSize + (accuracyLevel == 0 ? "" : "/acc" + accuracyLevel) : "none";
    }
}
