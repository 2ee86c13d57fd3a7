package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.ditfn.dit.SegmentPartition;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Qwen-Image DiT as the sessions of a partition: every partition gives the monolithic velocity, the sessions hold
 * disjoint weights that together are the whole model, and nothing outside the partition runs.
 */
class SegmentedQwenImageTest {
    /** Same kernels on the same data; chaining only moves tensors between sessions. */
    private static final float TOLERANCE = 1e-5f;
    static final QwenImageTransformerConfig CONFIG = new QwenImageTransformerConfig(2, 64, 16, 4, 32, 2, 32,
            new int[] {8, 12, 12});

    /** The 4-block test model and one forward's inputs (fixed seeds). */
    record Fixture(QwenTestModel model, QwenImageConditioning cond, OnnxTensor hidden, OnnxTensor timestep)
            implements AutoCloseable {
        static Fixture open(Path dir, OrtRuntime runtime) throws Exception {
            Random rnd = new Random(1);
            int h2 = 4;
            int w2 = 3;
            int textLen = 6;
            float[] latents = QwenTestModel.normal(rnd, h2 * w2 * 64);
            float[] prompt = QwenTestModel.normal(rnd, textLen * 32);
            return new Fixture(new QwenTestModel(dir, CONFIG, 5), new QwenImageConditioning(runtime.env(),
                    DType.FLOAT32, CONFIG, prompt, textLen, h2, w2), Tensors.of(runtime.env(), DType.FLOAT32, latents, 1,
                    h2 * w2, 64), Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.7f}, 1));
        }

        Map<String, OnnxTensor> inputs() {
            return cond.with(hidden, timestep);
        }

        @Override
        public void close() throws Exception {
            try (model; cond; hidden; timestep) {
                // closes each
            }
        }
    }

    @Test
    void everyPartitionGivesTheMonolithicVelocity(@TempDir Path dir) throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        try (Fixture f = Fixture.open(dir, runtime);
                ModelSession monolithic = runtime.createSession(new QwenImageTransformer(CONFIG).build(
                        GraphTarget.CPU_FP32, f.model().store, TransformerSegment.whole(4)), f.model().store)) {
            Map<String, OnnxTensor> inputs = f.inputs();
            float[] whole;
            Map<String, OnnxTensor> feeds = new HashMap<>(inputs);
            feeds.keySet().retainAll(monolithic.session().getInputNames());
            try (OrtSession.Result r = monolithic.run(feeds)) {
                whole = Tensors.floats(r.get(0));
            }
            assertEquals(4 * 3 * 64, whole.length);
            for (List<Integer> cuts : List.of(List.<Integer>of(), List.of(1), List.of(1, 3), List.of(2), List.of(1, 2, 3))) {
                try (SegmentedTransformer t = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG),
                        f.model().store, new SegmentPartition(4, cuts));
                        TransformerPass pass = t.pass(inputs)) {
                    assertEquals(cuts.size() + 4, t.sessionCount(),
                            "prologue, one per block range, epilogue, stream add");
                    assertArrayEquals(whole, pass.forward(), TOLERANCE, "cuts " + cuts);
                }
            }
        }
    }

    @Test
    void thePartitionsSessionsHoldEveryWeightExactlyOnce(@TempDir Path dir) {
        try (QwenTestModel model = new QwenTestModel(dir, CONFIG, 5)) {
            QwenImageTransformer graphs = new QwenImageTransformer(CONFIG);
            Set<String> seen = new HashSet<>();
            for (TransformerSegment s : new SegmentPartition(4, List.of(1, 3)).segments()) {
                for (String w : graphs.build(GraphTarget.CPU_FP32, model.store, s).weightNames()) {
                    assertTrue(seen.add(w), w + " is held by a second session (" + s + ")");
                }
            }
            assertEquals(model.store.names(), seen, "the sessions together hold the whole model");
            assertTrue(seen.contains("transformer_blocks.0.img_mod.1.weight"));
        }
    }

    @Test
    void onlyTheLoadedSegmentsRun(@TempDir Path dir) throws Exception {
        OrtRuntime runtime = QwenTestModel.runtime();
        try (QwenTestModel model = new QwenTestModel(dir, CONFIG, 5);
                SegmentedTransformer t = new SegmentedTransformer(runtime, new QwenImageTransformer(CONFIG),
                        model.store, new SegmentPartition(4, List.of(1)));
                var cond = new QwenImageConditioning(runtime.env(), DType.FLOAT32, CONFIG, new float[3 * 32], 3, 2, 2);
                OnnxTensor hidden = Tensors.of(runtime.env(), DType.FLOAT32, new float[4 * 64], 1, 4, 64);
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.5f}, 1);
                TransformerPass pass = t.pass(cond.with(hidden, timestep))) {
            assertThrows(IllegalStateException.class, () -> pass.stream("img"), "no state before the prologue");
            assertEquals(4 * 64, pass.prologue(true).length, "the probe: block 0's modulated input, [N, D]");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pass.blocks(0, 2));
            assertTrue(e.getMessage().contains("[0, 1, 4]"), e.getMessage());
            pass.blocks(0, 4);
            assertEquals(4 * 64, pass.epilogue().length);
            assertEquals(5, t.sessionCount());
            assertEquals(List.of("img"), t.epilogueStreams(), "the output head reads the image stream only");
        }
    }
}
