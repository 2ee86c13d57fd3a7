package dev.ditfn.dit;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.Tensors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One forward of a {@link SegmentedTransformer}, segment by segment: the stream state stays in ORT tensors between
 * segments; a step cache reads a stream into Java ({@link #stream}) only where it measures or stores a residual, and
 * replaces one ({@link #replaceStream}) where it reuses a residual. Owns every tensor it makes; close it after the
 * velocity was read.
 */
public final class TransformerPass implements AutoCloseable {
    private final SegmentedTransformer transformer;
    private final Map<String, ? extends OnnxTensorLike> inputs;
    private final Map<String, OnnxTensor> state = new HashMap<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private long blockNanos;

    TransformerPass(SegmentedTransformer transformer, Map<String, ? extends OnnxTensorLike> inputs) {
        this.transformer = transformer;
        this.inputs = inputs;
    }

    /** Prologue, every block, epilogue: the velocity without any cache. */
    public float[] forward() throws OrtException {
        prologue(false);
        blocks(0, transformer.blocks());
        return epilogue();
    }

    /** Runs the prologue; returns block 0's modulated input when {@code probe} is asked for, else null. */
    public float[] prologue(boolean probe) throws OrtException {
        OrtSession.Result r = run(SegmentPartition.prologue(), probe);
        return probe ? Tensors.floats(r.get(SegmentedTransformer.PROBE).orElseThrow()) : null;
    }

    /** Runs blocks {@code [from, to)}; both must be boundaries of the partition. */
    public void blocks(int from, int to) throws OrtException {
        long start = System.nanoTime();
        for (TransformerSegment s : transformer.partition().ranges(from, to)) {
            run(s, false);
        }
        blockNanos += System.nanoTime() - start;
    }

    /** Wall time spent in block segments so far: the part of a forward that a step cache can skip. */
    public double blockMillis() {
        return blockNanos / 1e6;
    }

    /** Runs the epilogue on the current state: the velocity. */
    public float[] epilogue() throws OrtException {
        OrtSession.Result r = run(transformer.partition().epilogue(), false);
        return Tensors.floats(r.get(SegmentedTransformer.VELOCITY).orElseThrow());
    }

    /** A copy of stream {@code name} as it stands now. */
    public float[] stream(String name) {
        return Tensors.floats(current(name));
    }

    /**
     * Adds {@code addend} (same shape and type, e.g. from {@link #tensorLike}) to stream {@code name} inside ORT: the
     * stream is not copied into Java and back.
     */
    public void addToStream(String name, OnnxTensorLike addend) throws OrtException {
        OrtSession.Result r = transformer.streamAdd().run(Map.of(SegmentedTransformer.ADD_STREAM, current(name),
                SegmentedTransformer.ADD_ADDEND, addend));
        owned.add(r);
        state.put(name, (OnnxTensor) r.get(SegmentedTransformer.ADD_SUM).orElseThrow());
    }

    /**
     * A tensor of stream {@code name}'s shape and type holding {@code values}; the caller owns it (it may outlive
     * the pass).
     */
    public OnnxTensor tensorLike(String name, float[] values) throws OrtException {
        return Tensors.of(transformer.runtime().env(), transformer.activationType(), values,
                current(name).getInfo().getShape());
    }

    /** Replaces stream {@code name} by {@code values} of the same shape. */
    public void replaceStream(String name, float[] values) throws OrtException {
        OnnxTensor t = tensorLike(name, values);
        owned.add(t);
        state.put(name, t);
    }

    private OnnxTensor current(String name) {
        OnnxTensor t = state.get(name);
        if (t == null) {
            throw new IllegalStateException("no stream '" + name + "' yet: run the prologue first");
        }
        return t;
    }

    private OrtSession.Result run(TransformerSegment segment, boolean probe) throws OrtException {
        ModelSession session = transformer.session(segment);
        Map<String, OnnxTensorLike> feeds = new HashMap<>();
        for (String name : session.session().getInputNames()) {
            OnnxTensorLike v = state.containsKey(name) ? state.get(name) : inputs.get(name);
            if (v == null) {
                throw new IllegalStateException("segment " + segment + " needs input '" + name + "', which neither the"
                        + " model inputs nor the previous segments provide");
            }
            feeds.put(name, v);
        }
        Set<String> outputs = new HashSet<>(session.session().getOutputNames());
        if (!probe) {
            outputs.remove(SegmentedTransformer.PROBE);
        }
        OrtSession.Result result = session.run(feeds, outputs);
        owned.add(result);
        for (Map.Entry<String, OnnxValue> e : result) {
            String name = e.getKey();
            if (name.endsWith(SegmentedTransformer.STATE_SUFFIX)) {
                state.put(name.substring(0, name.length() - SegmentedTransformer.STATE_SUFFIX.length()),
                        (OnnxTensor) e.getValue());
            }
        }
        return result;
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot release a transformer tensor: " + e.getMessage(), e);
            }
        }
        owned.clear();
        state.clear();
    }
}
