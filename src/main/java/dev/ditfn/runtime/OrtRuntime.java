package dev.ditfn.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.weights.BlockQuantizer;
import dev.ditfn.weights.QuantizedWeightCache;
import dev.ditfn.weights.WeightStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The process-wide ORT environment (one global intra-/inter-op thread pool shared by every session) and the
 * factory for sessions built from in-memory graphs whose weights are memory-mapped safetensors.
 */
public final class OrtRuntime {
    private static OrtEnvironment shared;
    private static String sharedThreads;

    private final OrtEnvironment env;
    private final ExecutionProviders providers;
    private final boolean prepackWeights;
    private final Optional<QuantizedWeightCache> quantizationCache;

    /** Without a quantization cache: quantized weights are computed at every load. */
    public OrtRuntime(OrtEnvironment env, ExecutionProviders providers, boolean prepackWeights) {
        this(env, providers, prepackWeights, Optional.empty());
    }

    /**
     * @param prepackWeights let ORT repack constant GEMM weights into its own memory (CPU: 5-20% faster
     *     linears, one anonymous copy of the weights); when false ORT computes straight from the mapped file pages
     * @param quantizationCache where quantized weights are read from, and stored after being computed
     */
    public OrtRuntime(OrtEnvironment env, ExecutionProviders providers, boolean prepackWeights,
            Optional<QuantizedWeightCache> quantizationCache) {
        this.env = env;
        this.providers = providers;
        this.prepackWeights = prepackWeights;
        this.quantizationCache = quantizationCache;
    }

    /**
     * The process's environment, created on first use with a global thread pool. ORT allows one environment per
     * process, so later calls get the same one (a different thread setting is ignored with a warning).
     */
    public static synchronized OrtEnvironment environment(int intraOpThreads, int interOpThreads, boolean spin) {
        String threads = intraOpThreads + "/" + interOpThreads + (spin ? " spinning" : " sleeping");
        if (shared == null) {
            try (OrtEnvironment.ThreadingOptions t = new OrtEnvironment.ThreadingOptions()) {
                t.setGlobalIntraOpNumThreads(intraOpThreads);
                t.setGlobalInterOpNumThreads(interOpThreads);
                t.setGlobalSpinControl(spin);
                shared = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "dit-fn", t);
                sharedThreads = threads;
            } catch (OrtException e) {
                throw new IllegalStateException("cannot create the ONNX Runtime environment: " + e.getMessage(), e);
            }
        } else if (!threads.equals(sharedThreads)) {
            org.jboss.logging.Logger.getLogger(OrtRuntime.class).warnf(
                    "ORT environment already exists with threads %s; ignoring %s", sharedThreads, threads);
        }
        return shared;
    }

    /** The process's pool as created: {@code intra/inter}, spinning or sleeping; null before the first environment. */
    public static synchronized String poolSetting() {
        return sharedThreads;
    }

    public OrtEnvironment env() {
        return env;
    }

    public ResolvedDevice device() {
        return providers.resolve();
    }

    public Optional<QuantizedWeightCache> quantizationCache() {
        return quantizationCache;
    }

    /**
     * Creates a session for {@code graph}, handing ORT each weight it declares as a tensor over the mapped file
     * ({@code addInitializer}: ORT uses that memory as is, never reads the file, and nothing lands on the Java heap).
     * The returned session owns those tensors.
     */
    public ModelSession createSession(GraphBuilder graph, WeightStore weights) {
        List<OnnxTensor> tensors = new ArrayList<>();
        try (SessionOptions options = new SessionOptions()) {
            options.disablePerSessionThreads();
            options.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
            if (!prepackWeights) {
                options.addConfigEntry("session.disable_prepacking", "1");
            }
            options.addConfigEntry("session.model_external_initializers_file_folder_path",
                    weights.dir().toAbsolutePath().toString());
            providers.apply(options);
            for (String name : graph.weightNames()) {
                OnnxTensor t = mappedTensor(weights.spec(name), weights);
                tensors.add(t);
                options.addInitializer(name, t);
            }
            for (GraphBuilder.QuantizedWeight q : graph.quantizedWeights()) {
                // direct or mapped buffers, which the tensors (owned by the session) keep
                BlockQuantizer.Quantized data = quantized(q, weights);
                OnnxTensor packed = OnnxTensor.createTensor(env, data.packed(), data.packedShape(), OnnxJavaType.UINT8);
                tensors.add(packed);
                options.addInitializer(q.packedName(), packed);
                OnnxTensor scales = OnnxTensor.createTensor(env, data.scales(), data.scalesShape(),
                        q.scaleType() == DType.FLOAT32 ? OnnxJavaType.FLOAT : OnnxJavaType.FLOAT16);
                tensors.add(scales);
                options.addInitializer(q.scalesName(), scales);
            }
            OrtSession session = env.createSession(graph.toModelBytes(), options);
            return new ModelSession(session, tensors);
        } catch (OrtException | RuntimeException e) {
            tensors.forEach(OnnxTensor::close);
            throw new IllegalStateException("cannot create an ORT session for graph with weights from "
                    + weights.dir() + ": " + e.getMessage(), e);
        }
    }

    /** {@code q}'s initializers: from the cache when there is one, else quantized from the mapped weight. */
    private BlockQuantizer.Quantized quantized(GraphBuilder.QuantizedWeight q, WeightStore weights) {
        Supplier<BlockQuantizer.Quantized> quantize = () -> BlockQuantizer.quantize(
                weights.data(q.source().name()), q.source().type(), q.n(), q.k(), q.quantization(), q.scaleType());
        return quantizationCache.map(c -> c.get(q.source(), q.quantization(), q.scaleType(), quantize))
                .orElseGet(quantize);
    }

    private OnnxTensor mappedTensor(TensorSpec spec, WeightStore weights) throws OrtException {
        OnnxJavaType type = switch (spec.type()) {
            case FLOAT32 -> OnnxJavaType.FLOAT;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case BFLOAT16 -> OnnxJavaType.BFLOAT16;
            default -> throw new IllegalArgumentException("weight '" + spec.name() + "' has type " + spec.type());
        };
        return OnnxTensor.createTensor(env, weights.data(spec.name()), spec.shape(), type);
    }
}
