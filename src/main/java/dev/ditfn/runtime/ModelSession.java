package dev.ditfn.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** An ORT session plus the weight tensors it reads from (they must outlive it). Safe for concurrent runs. */
public final class ModelSession implements AutoCloseable {
    /**
     * Run options for every call made on this thread, so that a request can stop its model call in progress
     * ({@code setTerminate} from another thread) without each model family passing them through its code.
     */
    private static final ThreadLocal<OrtSession.RunOptions> RUN_OPTIONS = new ThreadLocal<>();

    private final OrtSession session;
    private final List<OnnxTensor> weights;

    ModelSession(OrtSession session, List<OnnxTensor> weights) {
        this.session = session;
        this.weights = weights;
    }

    /** Runs the graph; the caller closes the result. */
    public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs) throws OrtException {
        OrtSession.RunOptions options = RUN_OPTIONS.get();
        return options == null ? session.run(inputs) : session.run(inputs, options);
    }

    /** Runs the graph for the named {@code outputs} only; the caller closes the result. */
    public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Set<String> outputs)
            throws OrtException {
        OrtSession.RunOptions options = RUN_OPTIONS.get();
        return options == null ? session.run(inputs, outputs) : session.run(inputs, outputs, options);
    }

    /** Runs {@code work} with every session call it makes on this thread under {@code options}. */
    public static <T> T withRunOptions(OrtSession.RunOptions options, Supplier<T> work) {
        OrtSession.RunOptions outer = RUN_OPTIONS.get();
        RUN_OPTIONS.set(options);
        try {
            return work.get();
        } finally {
            if (outer == null) {
                RUN_OPTIONS.remove();
            } else {
                RUN_OPTIONS.set(outer);
            }
        }
    }

    public OrtSession session() {
        return session;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close session: " + e.getMessage(), e);
        } finally {
            weights.forEach(OnnxTensor::close);
        }
    }
}
