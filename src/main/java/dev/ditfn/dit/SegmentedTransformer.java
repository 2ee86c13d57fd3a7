package dev.ditfn.dit;

import ai.onnxruntime.OnnxTensorLike;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.weights.WeightStore;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A DiT as the sessions of one {@link SegmentPartition}, all created (from the same mapped weights) when this is
 * built and never afterwards: every forward, cached or not, is a chain of them, so no request parameter can create a
 * session or another copy of a weight. Safe for concurrent passes.
 */
public final class SegmentedTransformer implements AutoCloseable {
    /** The epilogue's output: the model's prediction for the latent tokens. */
    public static final String VELOCITY = "velocity";
    /** TeaCache's probe, output by the prologue on request: block 0's modulated input. */
    public static final String PROBE = "modulated_input";
    /** Suffix of a segment output that the next segment reads as the input without it. */
    static final String STATE_SUFFIX = "_out";

    private final OrtRuntime runtime;
    private final SegmentGraphs graphs;
    private final SegmentPartition partition;
    private final Map<TransformerSegment, ModelSession> sessions;

    public SegmentedTransformer(OrtRuntime runtime, SegmentGraphs graphs, WeightStore weights,
            SegmentPartition partition) {
        this(runtime, graphs, weights, partition, WeightQuantization.NONE);
    }

    /**
     * @param quantization how the linear weights run (block-quantized weights are computed once per session from
     *     the mapped ones and held off the Java heap); refused on a target without contrib ops
     */
    public SegmentedTransformer(OrtRuntime runtime, SegmentGraphs graphs, WeightStore weights,
            SegmentPartition partition, WeightQuantization quantization) {
        if (partition.blocks() != graphs.blocks()) {
            throw new IllegalArgumentException(partition + " is for " + partition.blocks() + " blocks, the model has "
                    + graphs.blocks());
        }
        this.runtime = runtime;
        this.graphs = graphs;
        this.partition = partition;
        Map<TransformerSegment, ModelSession> built = new LinkedHashMap<>();
        try {
            for (TransformerSegment s : partition.segments()) {
                built.put(s, runtime.createSession(graphs.build(runtime.device().target(), weights, s, quantization),
                        weights));
            }
        } catch (RuntimeException e) {
            built.values().forEach(ModelSession::close);
            throw e;
        }
        this.sessions = Map.copyOf(built);
    }

    public SegmentPartition partition() {
        return partition;
    }

    public int blocks() {
        return partition.blocks();
    }

    /** The stream state, primary first (see {@link SegmentGraphs#streams()}). */
    public List<String> streams() {
        return graphs.streams();
    }

    /** ORT sessions held: fixed for the life of this object. */
    public int sessionCount() {
        return sessions.size();
    }

    /**
     * One transformer call on {@code inputs}: the prologue's model inputs and every table the segments read. The
     * caller keeps ownership of {@code inputs} and closes the pass.
     */
    public TransformerPass pass(Map<String, ? extends OnnxTensorLike> inputs) {
        return new TransformerPass(this, inputs);
    }

    ModelSession session(TransformerSegment segment) {
        ModelSession s = sessions.get(segment);
        if (s == null) {
            throw new IllegalArgumentException("segment " + segment + " is not one of the " + partition);
        }
        return s;
    }

    OrtRuntime runtime() {
        return runtime;
    }

    DType activationType() {
        return runtime.device().target().activationType();
    }

    @Override
    public void close() {
        sessions.values().forEach(ModelSession::close);
    }
}
