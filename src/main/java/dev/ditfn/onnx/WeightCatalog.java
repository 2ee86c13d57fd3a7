package dev.ditfn.onnx;

/** Answers what a named weight tensor looks like, so graphs can be built without reading the data. */
public interface WeightCatalog {

    /**
     * @throws RuntimeException naming the tensor and the files searched when it is absent
     */
    TensorSpec spec(String name);

    boolean contains(String name);
}
