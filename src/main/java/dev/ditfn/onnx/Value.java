package dev.ditfn.onnx;

/** A named tensor in a graph under construction: a graph input, an initializer or a node output. */
public record Value(String name) {
    @Override
    public String toString() {
        return name;
    }
}
