package dev.ditfn.dit;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.weights.WeightStore;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    /** The inputs and output of the stream-add session. */
    static final String ADD_STREAM = "stream";
    static final String ADD_ADDEND = "addend";
    static final String ADD_SUM = "sum";

    private final OrtRuntime runtime;
    private final SegmentGraphs graphs;
    private final SegmentPartition partition;
    private final Map<TransformerSegment, ModelSession> sessions;
    /** Adds a stored residual to a stream inside ORT, so that a reused step never copies the stream into Java. */
    private final ModelSession streamAdd;
    /** The streams the epilogue reads: all that a residual reused right before it has to reach. */
    private final List<String> epilogueStreams;

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
            this.streamAdd = runtime.createSession(streamAddGraph(runtime.device().target(), weights), weights);
            // the load-time warm-up reuses no residual, so the add runs once here, on the device, before any request
            warmUp(streamAdd);
        } catch (RuntimeException e) {
            built.values().forEach(ModelSession::close);
            throw e;
        }
        this.sessions = Map.copyOf(built);
        Set<String> read = sessions.get(partition.epilogue()).session().getInputNames();
        this.epilogueStreams = graphs.streams().stream().filter(read::contains).toList();
        if (!epilogueStreams.contains(graphs.streams().get(0))) {
            close();
            throw new IllegalArgumentException("the epilogue does not read the primary stream "
                    + graphs.streams().get(0));
        }
    }

    private void warmUp(ModelSession add) {
        try (OnnxTensor one = Tensors.of(runtime.env(), activationType(), new float[] {0f}, 1, 1, 1);
                OrtSession.Result r = add.run(Map.of(ADD_STREAM, one, ADD_ADDEND, one))) {
            r.get(ADD_SUM).orElseThrow();
        } catch (OrtException | RuntimeException e) {
            add.close();
            throw new IllegalStateException("the stream-add session cannot run: " + e.getMessage(), e);
        }
    }

    /** {@code sum = stream + addend}, any shape, in the target's activation type. */
    private static GraphBuilder streamAddGraph(GraphTarget target, WeightCatalog weights) {
        GraphBuilder g = new GraphBuilder("stream_add", target, weights);
        DType act = target.activationType();
        Value sum = g.add(g.input(ADD_STREAM, act, "B", "S", "D"), g.input(ADD_ADDEND, act, "B", "S", "D"));
        g.output(sum, ADD_SUM, act, "B", "S", "D");
        return g;
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

    /** The streams the epilogue reads (primary first): what a cache that reuses the whole block stack must update. */
    public List<String> epilogueStreams() {
        return epilogueStreams;
    }

    /** ORT sessions held: one per segment plus the stream add; fixed for the life of this object. */
    public int sessionCount() {
        return sessions.size() + 1;
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

    ModelSession streamAdd() {
        return streamAdd;
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
        streamAdd.close();
    }
}
