package dev.ditfn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Layers;
import dev.ditfn.onnx.Value;
import dev.ditfn.onnx.WeightCatalog;

/**
 * A plain pre-norm transformer over a token sequence - input projection, {@code num_layers} blocks of
 * RMSNorm + self-attention and RMSNorm + GELU MLP with residuals, output projection - whose size is easy to dial,
 * for runtime measurements (load, memory, call overhead).
 * Input {@code hidden_states [B, S, in_channels]}, output {@code sample [B, S, in_channels]}.
 */
public record ProbeTransformer(int inChannels, int width, int heads, int layers) {
    public static final String CLASS_NAME = "DitFnProbeTransformer";
    static final float EPS = 1e-6f;

    public static ProbeTransformer fromConfig(JsonNode config) {
        ProbeTransformer t = new ProbeTransformer(config.path("in_channels").asInt(), config.path("width").asInt(),
                config.path("num_attention_heads").asInt(), config.path("num_layers").asInt());
        if (t.inChannels < 1 || t.width < 1 || t.heads < 1 || t.layers < 1 || t.width % t.heads != 0) {
            throw new IllegalArgumentException("invalid " + CLASS_NAME + " config " + config
                    + ": in_channels, width, num_attention_heads, num_layers must be positive, width a multiple of heads");
        }
        return t;
    }

    public GraphBuilder build(GraphTarget target, WeightCatalog weights) {
        GraphBuilder g = new GraphBuilder("probe_transformer", target, weights);
        Layers nn = new Layers(g);
        DType act = g.act();
        Value x = nn.linear(g.input("hidden_states", act, "batch", "tokens", inChannels),
                g.weight("proj_in.weight", width, inChannels), g.weight("proj_in.bias", width));
        for (int i = 0; i < layers; i++) {
            String p = "blocks." + i + ".";
            Value h = nn.rmsNorm(x, g.weight(p + "norm1.weight", width), EPS);
            Value q = nn.linear(h, g.weight(p + "attn.to_q.weight", width, width), null);
            Value k = nn.linear(h, g.weight(p + "attn.to_k.weight", width, width), null);
            Value v = nn.linear(h, g.weight(p + "attn.to_v.weight", width, width), null);
            Value a = nn.attention(q, k, v, heads, heads, width / heads, null);
            x = g.add(x, nn.linear(a, g.weight(p + "attn.to_out.weight", width, width), null));
            h = nn.rmsNorm(x, g.weight(p + "norm2.weight", width), EPS);
            h = g.geluTanh(nn.linear(h, g.weight(p + "mlp.fc1.weight", 4L * width, width), g.weight(p + "mlp.fc1.bias", 4L * width)));
            x = g.add(x, nn.linear(h, g.weight(p + "mlp.fc2.weight", width, 4L * width), g.weight(p + "mlp.fc2.bias", width)));
        }
        Value out = nn.linear(x, g.weight("proj_out.weight", inChannels, width), g.weight("proj_out.bias", inChannels));
        g.output(out, "sample", act, "batch", "tokens", inChannels);
        return g;
    }
}
