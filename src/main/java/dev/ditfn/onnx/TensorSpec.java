package dev.ditfn.onnx;

import java.util.Arrays;

/**
 * Name, element type and shape of a weight tensor, plus where it lives: the file ({@code source}, also used in
 * error messages) and the byte offset of its data in that file ({@code -1} while not yet written).
 */
public record TensorSpec(String name, DType type, long[] shape, String source, long offset) {

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
