package dev.ditfn.model.zimage;

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
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.TestData;
import dev.ditfn.weights.WeightStore;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Z-Image DiT as the sessions of a partition: every partition gives the monolithic output, the sessions hold
 * disjoint weights that together are the whole model, and the probe is layer 0's modulated attention input.
 */
class SegmentedZImageTest {
    private static final float TOLERANCE = 1e-5f;
    static final ZImageTransformerConfig CONFIG = ZImageTransformerConfig.small(64, 2, 4, 24, new int[] {8, 12, 12});

    /** The 4-layer test model and one forward's inputs (fixed seeds). */
    record Fixture(GraphRunner runner, ZImageSequence seq, ZImageConditioning cond, OnnxTensor patches,
            OnnxTensor timestep) implements AutoCloseable {
        static Fixture open(Path dir, OrtRuntime runtime) throws Exception {
            Random rnd = new Random(1);
            ZImageSequence seq = new ZImageSequence(16, 8, 6, 5);
            GraphRunner runner = new GraphRunner(dir, "diffusion_pytorch_model.safetensors")
                    .random(DType.FLOAT32, 5, CONFIG::writeRandomWeights);
            return new Fixture(runner, seq, new ZImageConditioning(runtime.env(), DType.FLOAT32, new ZImageRope(CONFIG),
                    seq, TestData.normal(rnd, 5 * 24), 24), Tensors.of(runtime.env(), DType.FLOAT32,
                    seq.patchify(TestData.normal(rnd, 16 * 8 * 6)), 1, seq.paddedImageTokens(), 64),
                    Tensors.of(runtime.env(), DType.FLOAT32, new float[] {0.3f}, 1));
        }

        Map<String, OnnxTensor> inputs() {
            return cond.with(patches, timestep);
        }

        @Override
        public void close() throws Exception {
            try (runner; cond; patches; timestep) {
                // closes each
            }
        }
    }

    @Test
    void everyPartitionGivesTheMonolithicOutput(@TempDir Path dir) throws Exception {
        OrtRuntime runtime = CpuRuntime.shared();
        try (Fixture f = Fixture.open(dir, runtime)) {
            ZImageSequence seq = f.seq();
            WeightStore store = f.runner().store();
            Map<String, OnnxTensor> inputs = f.inputs();
            float[] whole;
            try (ModelSession monolithic = runtime.createSession(new ZImageTransformer(CONFIG).build(
                    GraphTarget.CPU_FP32, store, TransformerSegment.whole(4)), store)) {
                Map<String, OnnxTensor> feeds = new HashMap<>(inputs);
                feeds.keySet().retainAll(monolithic.session().getInputNames());
                try (OrtSession.Result r = monolithic.run(feeds)) {
                    whole = Tensors.floats(r.get(0));
                }
            }
            assertEquals(seq.paddedImageTokens() * 64, whole.length, "the image rows, pads included");
            for (List<Integer> cuts : List.of(List.<Integer>of(), List.of(1), List.of(1, 3), List.of(2))) {
                try (SegmentedTransformer t = new SegmentedTransformer(runtime, new ZImageTransformer(CONFIG), store,
                        new SegmentPartition(4, cuts));
                        TransformerPass pass = t.pass(inputs)) {
                    float[] probe = pass.prologue(true);
                    assertEquals((seq.paddedImageTokens() + seq.paddedCaptionTokens()) * 64, probe.length,
                            "the probe covers the unified sequence");
                    pass.blocks(0, 4);
                    assertArrayEquals(whole, pass.epilogue(), TOLERANCE, "cuts " + cuts);
                    assertEquals(List.of("x"), t.epilogueStreams(), "one unified stream");
                }
            }
        }
    }

    @Test
    void thePartitionsSessionsHoldEveryWeightExactlyOnce(@TempDir Path dir) {
        try (GraphRunner runner = new GraphRunner(dir, "diffusion_pytorch_model.safetensors")
                .random(DType.FLOAT32, 5, CONFIG::writeRandomWeights)) {
            ZImageTransformer graphs = new ZImageTransformer(CONFIG);
            Set<String> seen = new HashSet<>();
            for (TransformerSegment s : new SegmentPartition(4, List.of(1, 3)).segments()) {
                for (String w : graphs.build(GraphTarget.CPU_FP32, runner.store(), s).weightNames()) {
                    assertTrue(seen.add(w), w + " is held by a second session (" + s + ")");
                }
            }
            assertEquals(runner.store().names(), seen, "the sessions together hold the whole model");
        }
    }
}
