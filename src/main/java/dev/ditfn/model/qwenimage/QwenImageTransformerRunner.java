package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.weights.WeightStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the Qwen-Image transformer as one graph or as a chain of block-range segments. Each segment's session is
 * built on first use from the same mapped weights (no duplicate weight memory) and kept. Stream state passes
 * between segments as ORT tensors in host memory, without copies through Java arrays.
 */
public final class QwenImageTransformerRunner implements AutoCloseable {
    private final OrtRuntime runtime;
    private final QwenImageTransformer graphs;
    private final WeightStore weights;
    private final DType act;
    private final Map<TransformerSegment, ModelSession> sessions = new ConcurrentHashMap<>();

    public QwenImageTransformerRunner(OrtRuntime runtime, QwenImageTransformerConfig config, WeightStore weights) {
        this.runtime = runtime;
        this.graphs = new QwenImageTransformer(config);
        this.weights = weights;
        this.act = runtime.device().target().activationType();
    }

    public QwenImageTransformerConfig config() {
        return graphs.config();
    }

    public int blocks() {
        return graphs.config().numLayers();
    }

    /** The session for {@code segment}, built on first use. */
    public ModelSession session(TransformerSegment segment) {
        return sessions.computeIfAbsent(segment,
                s -> runtime.createSession(graphs.build(runtime.device().target(), weights, s), weights));
    }

    /**
     * The conditioning of one guidance branch for one request: prompt embeddings and RoPE tables as ORT tensors,
     * made once and reused at every step.
     */
    public final class Conditioning implements AutoCloseable {
        final int imageTokens;
        final Map<String, OnnxTensor> tensors = new HashMap<>();

        Conditioning(float[] promptEmbeds, int textLen, int h2, int w2) throws OrtException {
            QwenImageTransformerConfig c = config();
            imageTokens = h2 * w2;
            QwenRope rope = QwenRope.of(c);
            QwenRope.Tables img = rope.imageTables(h2, w2);
            QwenRope.Tables txt = rope.textTables(textLen, h2, w2);
            try {
                tensors.put("encoder_hidden_states", Tensors.of(runtime.env(), act, promptEmbeds, 1, textLen,
                        c.jointAttentionDim()));
                tensors.put("img_cos", Tensors.of(runtime.env(), DType.FLOAT32, img.cos(), img.shape()));
                tensors.put("img_sin", Tensors.of(runtime.env(), DType.FLOAT32, img.sin(), img.shape()));
                tensors.put("txt_cos", Tensors.of(runtime.env(), DType.FLOAT32, txt.cos(), txt.shape()));
                tensors.put("txt_sin", Tensors.of(runtime.env(), DType.FLOAT32, txt.sin(), txt.shape()));
            } catch (OrtException | RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /** @param promptEmbeds {@code [textLen, joint_attention_dim]} row-major */
    public Conditioning condition(float[] promptEmbeds, int textLen, int h2, int w2) throws OrtException {
        return new Conditioning(promptEmbeds, textLen, h2, w2);
    }

    /** The velocity for packed latents {@code [N, in_channels]} at {@code sigma}, from the monolithic graph. */
    public float[] forward(float[] latents, float sigma, Conditioning cond) throws OrtException {
        return forward(latents, sigma, cond, List.of(TransformerSegment.whole(blocks())));
    }

    /**
     * The same forward through a chain of segments that together cover prologue, every block in order, and
     * epilogue (e.g. prologue+[0,a), [a,b), [b,N)+epilogue).
     */
    public float[] forward(float[] latents, float sigma, Conditioning cond, List<TransformerSegment> chain)
            throws OrtException {
        checkChain(chain);
        QwenImageTransformerConfig c = config();
        List<OrtSession.Result> open = new ArrayList<>();
        try (OnnxTensor hidden = Tensors.of(runtime.env(), act, latents, 1, cond.imageTokens, c.inChannels());
                OnnxTensor timestep = Tensors.of(runtime.env(), DType.FLOAT32, new float[] {sigma}, 1)) {
            Map<String, OnnxTensorLike> state = new HashMap<>();
            state.put("hidden_states", hidden);
            state.put("timestep", timestep);
            for (TransformerSegment segment : chain) {
                Map<String, OnnxTensorLike> inputs = new HashMap<>(cond.tensors);
                inputs.putAll(state);
                ModelSession session = session(segment);
                inputs.keySet().retainAll(session.session().getInputNames());
                OrtSession.Result result = session.run(inputs);
                open.add(result);
                if (segment.epilogue()) {
                    return Tensors.floats(result.get("velocity").orElseThrow());
                }
                state.put("img", (OnnxTensor) result.get("img_out").orElseThrow());
                state.put("txt", (OnnxTensor) result.get("txt_out").orElseThrow());
                if (segment.prologue()) {
                    state.put("temb", (OnnxTensor) result.get("temb_out").orElseThrow());
                }
            }
            throw new IllegalStateException("unreachable: checked chain ends with the epilogue");
        } finally {
            open.forEach(OrtSession.Result::close);
        }
    }

    /**
     * Runs one segment on host arrays: {@code latents} and {@code sigma} feed a prologue, {@code state} holds
     * {@code img}, {@code txt}, {@code temb} for the others. Returns every output by name ({@code img_out},
     * {@code txt_out}, {@code temb_out}, {@code modulated_input}, {@code velocity}) as floats. Step caches use this
     * to look at and replace the stream state between segments.
     */
    public Map<String, float[]> run(TransformerSegment segment, Conditioning cond, float[] latents, float sigma,
            Map<String, float[]> state) throws OrtException {
        QwenImageTransformerConfig c = config();
        int d = c.innerDim();
        int textLen = (int) (cond.tensors.get("encoder_hidden_states").getInfo().getShape()[1]);
        List<OnnxTensor> made = new ArrayList<>();
        try {
            Map<String, OnnxTensorLike> inputs = new HashMap<>(cond.tensors);
            if (segment.prologue()) {
                made.add(Tensors.of(runtime.env(), act, latents, 1, cond.imageTokens, c.inChannels()));
                inputs.put("hidden_states", made.get(made.size() - 1));
                made.add(Tensors.of(runtime.env(), DType.FLOAT32, new float[] {sigma}, 1));
                inputs.put("timestep", made.get(made.size() - 1));
            } else {
                made.add(Tensors.of(runtime.env(), act, state.get("img"), 1, cond.imageTokens, d));
                inputs.put("img", made.get(made.size() - 1));
                made.add(Tensors.of(runtime.env(), act, state.get("txt"), 1, textLen, d));
                inputs.put("txt", made.get(made.size() - 1));
                made.add(Tensors.of(runtime.env(), act, state.get("temb"), 1, d));
                inputs.put("temb", made.get(made.size() - 1));
            }
            ModelSession session = session(segment);
            inputs.keySet().retainAll(session.session().getInputNames());
            try (OrtSession.Result result = session.run(inputs)) {
                Map<String, float[]> out = new HashMap<>();
                for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : result) {
                    out.put(e.getKey(), Tensors.floats(e.getValue()));
                }
                return out;
            }
        } finally {
            made.forEach(OnnxTensor::close);
        }
    }

    private void checkChain(List<TransformerSegment> chain) {
        int next = 0;
        for (int i = 0; i < chain.size(); i++) {
            TransformerSegment s = chain.get(i);
            boolean first = i == 0;
            boolean last = i == chain.size() - 1;
            if (s.from() != next || s.prologue() != first || s.epilogue() != last) {
                throw new IllegalArgumentException("segments " + chain + " do not chain prologue, blocks [0,"
                        + blocks() + ") in order, and epilogue");
            }
            next = s.to();
        }
        if (next != blocks()) {
            throw new IllegalArgumentException("segments " + chain + " stop at block " + next + " of " + blocks());
        }
    }

    @Override
    public void close() {
        sessions.values().forEach(ModelSession::close);
        sessions.clear();
    }
}
