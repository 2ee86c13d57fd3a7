package dev.ditfn.model.qwenimage;

import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.TestData;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.weights.WeightStore;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A Qwen-Image DiT with deterministic random fp32 weights in a folder, its graphs per segment, and the
 * {@link GraphRunner} that runs them.
 */
final class QwenTestModel implements AutoCloseable {

    final QwenImageTransformerConfig config;
    final GraphRunner runner;
    final WeightStore store;
    final QwenImageTransformer transformer;

    QwenTestModel(Path dir, QwenImageTransformerConfig config, long seed) {
        this(dir, config, seed, config::writeRandomWeights);
    }

    /** A model whose weights {@code writer} draws: e.g. only the tensors one segment needs. */
    QwenTestModel(Path dir, QwenImageTransformerConfig config, long seed, Consumer<RandomWeights> writer) {
        this.config = config;
        this.runner = new GraphRunner(dir, "diffusion_pytorch_model.safetensors")
                .random(DType.FLOAT32, seed, writer);
        this.store = runner.store();
        this.transformer = new QwenImageTransformer(config);
    }

    static OrtRuntime runtime() {
        return CpuRuntime.shared();
    }

    GraphBuilder build(GraphTarget target, TransformerSegment segment) {
        return transformer.build(target, store, segment);
    }

    /** The four RoPE table inputs for an {@code h2 × w2} grid and {@code textLen} text tokens. */
    Map<String, Input> ropeInputs(int h2, int w2, int textLen) {
        QwenRope rope = QwenRope.of(config);
        QwenRope.Tables img = rope.imageTables(h2, w2);
        QwenRope.Tables txt = rope.textTables(textLen, h2, w2);
        Map<String, Input> m = new LinkedHashMap<>();
        m.put(QwenImageTransformer.IMG_COS, Input.of(img.cos(), img.shape()));
        m.put(QwenImageTransformer.IMG_SIN, Input.of(img.sin(), img.shape()));
        m.put(QwenImageTransformer.TXT_COS, Input.of(txt.cos(), txt.shape()));
        m.put(QwenImageTransformer.TXT_SIN, Input.of(txt.sin(), txt.shape()));
        return m;
    }

    @Override
    public void close() {
        runner.close();
    }

    static float[] normal(Random rnd, int n) {
        return TestData.normal(rnd, n);
    }
}
