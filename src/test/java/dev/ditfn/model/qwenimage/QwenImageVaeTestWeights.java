package dev.ditfn.model.qwenimage;

import dev.ditfn.onnx.DType;
import dev.ditfn.testing.GraphRunner;

import java.util.Map;

/** Weight files for the VAE graphs' load-time checks: a tensor layout with one tensor reshaped or left out. */
final class QwenImageVaeTestWeights {
    private QwenImageVaeTestWeights() {
    }

    /**
     * Stages every tensor of {@code shapes} (fp32, N(0, 0.1²)) into {@code r}'s file, except that {@code name} gets
     * {@code shape}, or is left out when {@code shape} is null.
     */
    static void stageWith(GraphRunner r, Map<String, long[]> shapes, String name, long[] shape) {
        r.random(DType.FLOAT32, 1, rnd -> {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                if (!e.getKey().equals(name)) {
                    rnd.gaussian(e.getKey(), 0.1, e.getValue());
                } else if (shape != null) {
                    rnd.gaussian(e.getKey(), 0.1, shape);
                }
            }
        });
    }
}
