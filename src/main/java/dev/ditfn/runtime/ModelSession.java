package dev.ditfn.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** An ORT session plus the weight tensors it reads from (they must outlive it). Safe for concurrent runs. */
public final class ModelSession implements AutoCloseable {
    private final OrtSession session;
    private final List<OnnxTensor> weights;

    ModelSession(OrtSession session, List<OnnxTensor> weights) {
        this.session = session;
        this.weights = weights;
    }

    /** Runs the graph; the caller closes the result. */
    public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs) throws OrtException {
        return session.run(inputs);
    }

    /** Runs the graph for the named {@code outputs} only; the caller closes the result. */
    public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Set<String> outputs)
            throws OrtException {
        return session.run(inputs, outputs);
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
