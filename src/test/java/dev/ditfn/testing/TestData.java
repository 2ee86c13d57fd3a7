package dev.ditfn.testing;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.DType;

import java.util.Random;

/** Seeded random inputs for graph tests, and rounding to what a graph's element type holds. */
public final class TestData {
    private TestData() {
    }

    /** {@code n} values uniform in {@code [lo, hi)}. */
    public static float[] uniform(Random rnd, int n, float lo, float hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return v;
    }

    /** {@code n} standard-normal values. */
    public static float[] normal(Random rnd, int n) {
        return normal(rnd, n, 1);
    }

    /** {@code n} values from N(0, std²). */
    public static float[] normal(Random rnd, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (std * rnd.nextGaussian());
        }
        return v;
    }

    /** Values rounded to what {@code type} can hold (identity for FLOAT32), so a reference sees what ORT sees. */
    public static float[] roundTo(DType type, float[] values) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case FLOAT32 -> out[i];
                case FLOAT16 -> Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(out[i]));
                case BFLOAT16 -> Fp16Conversions.bf16ToFloat(Fp16Conversions.floatToBf16(out[i]));
                default -> throw new IllegalArgumentException(type.toString());
            };
        }
        return out;
    }
}
