package dev.ditfn.weights;

import dev.ditfn.onnx.DType;

import java.util.Arrays;

/** The safetensors dtype strings dit-fn reads and writes. */
enum SafetensorsDType {
    F32(DType.FLOAT32),
    F16(DType.FLOAT16),
    BF16(DType.BFLOAT16);

    final DType type;

    SafetensorsDType(DType type) {
        this.type = type;
    }

    static SafetensorsDType parse(String code, String tensor, String file) {
        for (SafetensorsDType d : values()) {
            if (d.name().equals(code)) {
                return d;
            }
        }
        throw new WeightsException("tensor '" + tensor + "' in " + file + " has dtype " + code
                + ", which dit-fn does not read (supported: " + Arrays.toString(values()) + ")");
    }

    static SafetensorsDType of(DType type) {
        for (SafetensorsDType d : values()) {
            if (d.type == type) {
                return d;
            }
        }
        throw new IllegalArgumentException("safetensors cannot hold " + type);
    }
}
