package dev.ditfn.onnx;

import java.util.Arrays;

/** Name, element type and shape of a weight tensor, plus where it lives (for error messages). */
public record TensorSpec(String name, DType type, long[] shape, String source) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteSize() {
        return Math.multiplyExact(elementCount(), type.byteSize());
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
