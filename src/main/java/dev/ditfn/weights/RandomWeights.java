package dev.ditfn.weights;

import dev.ditfn.onnx.DType;
import dev.ditfn.weights.SafetensorsWriter;

import java.util.SplittableRandom;

/**
 * Deterministic random weights for generated models (tests, the embedded default, benchmark presets). Each tensor
 * draws from its own stream seeded by (seed, name), so values do not depend on the order tensors are written.
 */
public final class RandomWeights {
    private final SafetensorsWriter out;
    private final DType type;
    private final long seed;

    public RandomWeights(SafetensorsWriter out, DType type, long seed) {
        this.out = out;
        this.type = type;
        this.seed = seed;
    }

    /** {@code prefix.weight [out, in]} with std 1/sqrt(in), and {@code prefix.bias [out]} with std 0.02 if asked. */
    public void linear(String prefix, long outDim, long inDim, boolean bias) {
        gaussian(prefix + ".weight", 1.0 / Math.sqrt(inDim), outDim, inDim);
        if (bias) {
            gaussian(prefix + ".bias", 0.02, outDim);
        }
    }

    /**
     * Like {@link #linear} without bias, but column {@code j} of the weight is scaled by {@code columnScale(j)}:
     * for inputs whose channels should not all matter alike.
     */
    public void linearScaledColumns(String prefix, long outDim, long inDim, java.util.function.IntToDoubleFunction columnScale) {
        SplittableRandom r = stream(prefix + ".weight");
        double std = 1.0 / Math.sqrt(inDim);
        out.add(prefix + ".weight", type, new long[] {outDim, inDim},
                i -> (float) (std * columnScale.applyAsDouble((int) (i % inDim)) * r.nextGaussian()));
    }

    /** A normalisation gain around 1 (1 + 0.1·N(0,1)), of any shape. */
    public void gain(String name, long... shape) {
        SplittableRandom r = stream(name);
        out.add(name, type, shape, i -> (float) (1.0 + 0.1 * r.nextGaussian()));
    }

    /** N(0, std²) values of the given shape. */
    public void gaussian(String name, double std, long... shape) {
        SplittableRandom r = stream(name);
        out.add(name, type, shape, i -> (float) (std * r.nextGaussian()));
    }

    private SplittableRandom stream(String name) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
    }
}
