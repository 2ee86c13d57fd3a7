package dev.ditfn.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;

/** Element types used by dit-fn graphs and weight files, with their ONNX codes and sizes. */
public enum DType {
    FLOAT32(DataType.FLOAT, 4),
    FLOAT16(DataType.FLOAT16, 2),
    BFLOAT16(DataType.BFLOAT16, 2),
    INT64(DataType.INT64, 8),
    INT32(DataType.INT32, 4),
    BOOL(DataType.BOOL, 1),
    UINT8(DataType.UINT8, 1);

    private final DataType onnx;
    private final int bytes;

    DType(DataType onnx, int bytes) {
        this.onnx = onnx;
        this.bytes = bytes;
    }

    public DataType onnx() {
        return onnx;
    }

    public int onnxCode() {
        return onnx.getNumber();
    }

    public int byteSize() {
        return bytes;
    }
}
