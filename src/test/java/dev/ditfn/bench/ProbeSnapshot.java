package dev.ditfn.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.weights.RandomWeights;
import dev.ditfn.onnx.DType;
import dev.ditfn.weights.SafetensorsWriter;
import dev.ditfn.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a diffusers-layout snapshot of a {@link ProbeTransformer} with deterministic random weights:
 * {@code model_index.json}, {@code transformer/config.json}, {@code transformer/diffusion_pytorch_model.safetensors}.
 */
public final class ProbeSnapshot {
    public static final String PIPELINE_CLASS = "DitFnProbePipeline";

    /** About 200 MB of fp32 weights, for load and memory measurements. */
    public static final ProbeTransformer LARGE = new ProbeTransformer(64, 1024, 8, 4);

    private ProbeSnapshot() {
    }

    public static void write(Path dir, ProbeTransformer t, DType weightType, long seed) {
        ObjectMapper json = new ObjectMapper();
        try {
            Files.createDirectories(dir.resolve("transformer"));
            ObjectNode index = json.createObjectNode().put("_class_name", PIPELINE_CLASS);
            index.putArray("transformer").add("dit-fn").add(ProbeTransformer.CLASS_NAME);
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model_index.json").toFile(), index);
            ObjectNode config = json.createObjectNode().put("_class_name", ProbeTransformer.CLASS_NAME)
                    .put("in_channels", t.inChannels()).put("width", t.width())
                    .put("num_attention_heads", t.heads()).put("num_layers", t.layers());
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("transformer/config.json").toFile(), config);
        } catch (IOException e) {
            throw new WeightsException("cannot write snapshot " + dir + ": " + e, e);
        }
        long w = t.width();
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        RandomWeights rnd = new RandomWeights(out, weightType, seed);
        rnd.linear("proj_in", w, t.inChannels(), true);
        for (int i = 0; i < t.layers(); i++) {
            String p = "blocks." + i + ".";
            rnd.gain(p + "norm1.weight", w);
            for (String m : new String[] {"to_q", "to_k", "to_v", "to_out"}) {
                rnd.linear(p + "attn." + m, w, w, false);
            }
            rnd.gain(p + "norm2.weight", w);
            rnd.linear(p + "mlp.fc1", 4 * w, w, true);
            rnd.linear(p + "mlp.fc2", w, 4 * w, true);
        }
        rnd.linear("proj_out", t.inChannels(), w, true);
        out.write(dir.resolve("transformer/diffusion_pytorch_model.safetensors"));
    }
}
