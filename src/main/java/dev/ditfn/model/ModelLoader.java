package dev.ditfn.model;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.config.DitConfig;
import dev.ditfn.model.probe.ProbeSnapshot;
import dev.ditfn.model.probe.ProbeTransformer;
import dev.ditfn.onnx.DType;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.ResolvedDevice;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;
import dev.ditfn.weights.WeightsException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Loads the model at startup. The device is checked synchronously (a device that cannot be initialised stops
 * startup); the model itself loads on a background thread so health probes get answers meanwhile.
 */
@ApplicationScoped
public class ModelLoader {
    private static final Logger LOG = Logger.getLogger(ModelLoader.class);

    @Inject
    DitConfig config;
    @Inject
    OrtRuntime runtime;
    @Inject
    ModelState state;

    void onStart(@Observes StartupEvent event) {
        ResolvedDevice device = runtime.device();
        LOG.infof("device: %s%s", device.active(),
                device.fallbackReason().map(r -> " (fallback from " + device.requested() + ")").orElse(""));
        Thread loader = new Thread(this::load, "dit-model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        LoadedModel model = state.status().model();
        if (model != null) {
            model.close();
        }
    }

    private void load() {
        long start = System.nanoTime();
        String stage = "resolving the model directory";
        try {
            state.loading(stage);
            Path dir = config.model().path().map(Path::of)
                    .orElseGet(() -> EmbeddedModel.ensure(Path.of(config.model().cacheDir())));
            stage = "opening snapshot " + dir;
            state.loading(stage);
            DiffusersSnapshot snapshot = DiffusersSnapshot.open(dir);
            if (!snapshot.pipelineClass().equals(ProbeSnapshot.PIPELINE_CLASS)) {
                throw new WeightsException(dir.resolve("model_index.json") + " names pipeline "
                        + snapshot.pipelineClass() + ", which this version does not serve (supported: "
                        + ProbeSnapshot.PIPELINE_CLASS + ")");
            }
            ProbeTransformer arch = ProbeTransformer.fromConfig(snapshot.config("transformer"));
            WeightStore weights = snapshot.weights("transformer");
            stage = "building the transformer session";
            state.loading(stage);
            ModelSession session = runtime.createSession(arch.build(runtime.device().target(), weights), weights);
            stage = "warm-up run";
            state.loading(stage);
            warmUp(session, arch);
            LoadedModel model = new LoadedModel(dir.getFileName().toString(), dir, snapshot.pipelineClass(),
                    runtime.device(), weights.names().size(), weights.byteSize(),
                    Duration.ofNanos(System.nanoTime() - start), session);
            state.ready(model);
            LOG.infof("model %s loaded in %d ms: %d tensors, %.1f MB, device %s", model.id(),
                    model.loadTime().toMillis(), model.tensors(), model.weightBytes() / 1e6, model.device().active());
        } catch (RuntimeException | OrtException | Error e) {
            LOG.errorf(e, "model loading failed while %s", stage);
            state.failed(stage, e);
        }
    }

    /** One forward on zeros: proves the session runs and gives finite numbers before traffic arrives. */
    private void warmUp(ModelSession session, ProbeTransformer arch) throws OrtException {
        int tokens = 4;
        long[] shape = {1, tokens, arch.inChannels()};
        DType act = runtime.device().target().activationType();
        ByteBuffer zeros = ByteBuffer.allocateDirect(tokens * arch.inChannels() * act.byteSize())
                .order(ByteOrder.nativeOrder());
        OnnxJavaType type = act == DType.FLOAT32 ? OnnxJavaType.FLOAT : OnnxJavaType.FLOAT16;
        try (OnnxTensor x = OnnxTensor.createTensor(runtime.env(), zeros, shape, type);
                OrtSession.Result r = session.run(Map.of("hidden_states", x))) {
            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
            while (out.hasRemaining()) {
                if (!Float.isFinite(out.get())) {
                    throw new IllegalStateException("warm-up forward produced a non-finite value");
                }
            }
        }
    }
}
