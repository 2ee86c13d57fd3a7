package dev.ditfn.model.text;

import static dev.ditfn.testing.ReferenceMath.add;
import static dev.ditfn.testing.ReferenceMath.linear;
import static dev.ditfn.testing.ReferenceMath.rmsNorm;

import dev.ditfn.testing.ReferenceMath;
import dev.ditfn.weights.WeightStore;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Plain-Java double-precision reference of the Qwen text-only forwards, written from the specs rather than from the
 * graph. Qwen2.5-VL (spec §4.3): embedding lookup; positions {@code cumsum(mask) - 1} per sample (1 at padding);
 * M-RoPE with three identical position streams and {@code mrope_section} chunk selection, rotate-half pairing;
 * pre-norm layers with Qwen2RMSNorm, q/k/v biases, GQA attention with a causal + padding mask, SwiGLU MLP; final
 * norm. Qwen3 (zimage-edit-spec A5, transformers {@code modeling_qwen3.py}): no biases, per-head RMSNorm of q and k
 * over the explicit {@code head_dim} before plain rotate-half RoPE, and the output {@code hidden_states[-2]} = the raw
 * output of layer {@code n - 2}. The {@code with…} switches compute it the wrong way on purpose, for tests that show
 * the graph would differ. Tensors are flat row-major arrays.
 */
final class QwenTextReference {
    private final QwenDecoderConfig c;
    private final WeightStore store;
    private final String prefix;
    private final Map<String, double[]> cache = new HashMap<>();
    private boolean qkNorm;
    private boolean qkNormAfterRope;
    private boolean finalNorm;
    private int layers;

    QwenTextReference(QwenDecoderConfig config, WeightStore store) {
        this.c = config;
        this.store = store;
        this.prefix = store.contains("model.embed_tokens.weight") ? "model." : "model.language_model.";
        this.qkNorm = config.qkNorm();
        this.finalNorm = config.output() == QwenDecoderConfig.Output.LAST_HIDDEN_STATE;
        this.layers = config.layersBuilt();
    }

    /** Applies the per-head q/k norm or not, whatever the config says. */
    QwenTextReference withQkNorm(boolean on) {
        qkNorm = on;
        return this;
    }

    /** Applies the per-head q/k norm after RoPE instead of before. */
    QwenTextReference withQkNormAfterRope() {
        qkNormAfterRope = true;
        return this;
    }

    /** Runs {@code n} layers and then the final norm or not ({@code hidden_states[n]} or {@code norm(...)}). */
    QwenTextReference withOutput(int n, boolean norm) {
        layers = n;
        finalNorm = norm;
        return this;
    }

    /** Computes with {@code replaced} instead of the stored values of those tensors (e.g. dequantized weights). */
    QwenTextReference withWeights(Map<String, double[]> replaced) {
        cache.putAll(replaced);
        return this;
    }

    private double[] w(String name) {
        return cache.computeIfAbsent(name, n -> ReferenceMath.weight(store, n));
    }

    // ---- whole model -----------------------------------------------------------------------------------

    /**
     * The encoder output {@code [B, L, hidden]} for {@code ids, mask [B, L]} (the final-normed last state, or for
     * Qwen3 {@code hidden_states[-2]}); rows of padding positions are 0.
     */
    double[] forward(long[] ids, long[] mask, int batch, int len) {
        int hidden = c.hiddenSize();
        double[] h = embed(ids);
        long[] pos = new long[batch * len];
        double[] bias = new double[batch * len * len];
        for (int b = 0; b < batch; b++) {
            long sum = 0;
            for (int i = 0; i < len; i++) {
                sum += mask[b * len + i];
                pos[b * len + i] = mask[b * len + i] == 0 ? 1 : sum - 1;
                for (int j = 0; j < len; j++) {
                    boolean visible = j <= i && mask[b * len + j] != 0;
                    bias[(b * len + i) * len + j] = visible ? 0 : Double.NEGATIVE_INFINITY;
                }
            }
        }
        for (int l = 0; l < layers; l++) {
            h = layer(h, batch, len, pos, bias, prefix + "layers." + l + ".");
        }
        double[] out = finalNorm ? rmsNorm(h, batch * len, hidden, w(prefix + "norm.weight"), c.rmsNormEps()) : h;
        for (int t = 0; t < batch * len; t++) {
            if (mask[t] == 0) {
                Arrays.fill(out, t * hidden, (t + 1) * hidden, 0);
            }
        }
        return out;
    }

    /** Token embeddings {@code [n, hidden]} of {@code ids}. */
    double[] embed(long[] ids) {
        int hidden = c.hiddenSize();
        double[] emb = w(prefix + "embed_tokens.weight");
        double[] h = new double[ids.length * hidden];
        for (int t = 0; t < ids.length; t++) {
            System.arraycopy(emb, (int) ids[t] * hidden, h, t * hidden, hidden);
        }
        return h;
    }

    /**
     * One unpadded sample from its input embeddings {@code h [L, hidden]} (image rows already spliced in), with
     * Qwen2.5-VL's three position streams {@code positionIds [3][L]} (t, h, w) and a causal mask; the configured
     * output (the final-normed last state).
     */
    double[] forwardEmbeds(double[] h, long[][] positionIds, int len) {
        double[] bias = causal(1, len);
        for (int l = 0; l < layers; l++) {
            h = layer(h, 1, len, positionIds, bias, prefix + "layers." + l + ".");
        }
        return finalNorm ? rmsNorm(h, len, c.hiddenSize(), w(prefix + "norm.weight"), c.rmsNormEps()) : h;
    }

    // ---- one layer -------------------------------------------------------------------------------------

    /**
     * One decoder layer on {@code h [B, L, hidden]}; {@code pos [B, L]} positions, {@code bias [B, L, L]} 0 where
     * query i may attend key j, else {@code -inf} (a row with nothing visible yields zero attention output).
     */
    double[] layer(double[] h, int batch, int len, long[] pos, double[] bias, String lp) {
        return layer(h, batch, len, new long[][] {pos, pos, pos}, bias, lp);
    }

    /** {@link #layer(double[], int, int, long[], double[], String)} with separate t, h, w position streams. */
    double[] layer(double[] h, int batch, int len, long[][] pos, double[] bias, String lp) {
        int hidden = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int hd = c.headDim();
        int qw = heads * hd;
        int kvw = kvHeads * hd;
        int rows = batch * len;
        double eps = c.rmsNormEps();
        String a = lp + "self_attn.";
        double[] n = rmsNorm(h, rows, hidden, w(lp + "input_layernorm.weight"), eps);
        double[] q = linear(n, w(a + "q_proj.weight"), bias(a + "q_proj"), rows, hidden, qw);
        double[] k = linear(n, w(a + "k_proj.weight"), bias(a + "k_proj"), rows, hidden, kvw);
        double[] v = linear(n, w(a + "v_proj.weight"), bias(a + "v_proj"), rows, hidden, kvw);
        q = normAndRope(q, rows, heads, hd, pos, a + "q_norm.weight");
        k = normAndRope(k, rows, kvHeads, hd, pos, a + "k_norm.weight");
        double[] attn = ReferenceMath.attention(q, k, v, batch, len, len, heads, kvHeads, hd, bias,
                new int[] {batch, 1, len, len});
        double[] h1 = add(h, linear(attn, w(a + "o_proj.weight"), null, rows, qw, hidden));
        int inter = c.intermediateSize();
        String m = lp + "mlp.";
        n = rmsNorm(h1, rows, hidden, w(lp + "post_attention_layernorm.weight"), eps);
        double[] gate = linear(n, w(m + "gate_proj.weight"), null, rows, hidden, inter);
        double[] up = linear(n, w(m + "up_proj.weight"), null, rows, hidden, inter);
        double[] act = new double[gate.length];
        for (int i = 0; i < act.length; i++) {
            act[i] = ReferenceMath.silu(gate[i]) * up[i];
        }
        return add(h1, linear(act, w(m + "down_proj.weight"), null, rows, inter, hidden));
    }

    /** {@code projection.bias} when the variant has q/k/v biases, else null. */
    private double[] bias(String projection) {
        return c.qkvBias() ? w(projection + ".bias") : null;
    }

    /**
     * RoPE on {@code x [rows, heads·hd]}, with the per-head RMSNorm {@code normWeight [hd]} (eps {@code rms_norm_eps})
     * before it when switched on (or after it, for {@link #withQkNormAfterRope()}).
     */
    private double[] normAndRope(double[] x, int rows, int heads, int hd, long[][] pos, String normWeight) {
        boolean before = qkNorm && !qkNormAfterRope;
        double[] y = before ? rmsNorm(x, rows * heads, hd, w(normWeight), c.rmsNormEps()) : x;
        y = mrope(y, rows, heads, hd, pos);
        return qkNorm && qkNormAfterRope ? rmsNorm(y, rows * heads, hd, w(normWeight), c.rmsNormEps()) : y;
    }

    /** Causal bias for unpadded sequences: {@code bias[b, i, j] = 0} for {@code j <= i}, else {@code -inf}. */
    static double[] causal(int batch, int len) {
        double[] bias = new double[batch * len * len];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < len; i++) {
                Arrays.fill(bias, (b * len + i) * len + i + 1, (b * len + i + 1) * len, Double.NEGATIVE_INFINITY);
            }
        }
        return bias;
    }

    // ---- building blocks -------------------------------------------------------------------------------

    /**
     * Multimodal RoPE on {@code x [rows, heads·hd]} as Qwen2.5-VL applies it to text (for Qwen3, which has no
     * {@code mrope_section}, this is plain rotate-half RoPE): three position streams
     * (t, h, w) {@code pos[0..2]} (all equal for text); {@code emb = concat(p·inv, p·inv)} per stream; the hd columns split into
     * chunks {@code mrope_section * 2}, chunk i taken from stream {@code i mod 3}; then rotate-half:
     * {@code y = x·cos + rotate_half(x)·sin}, {@code rotate_half(x) = concat(-x[hd/2:], x[:hd/2])}.
     */
    double[] mrope(double[] x, int rows, int heads, int hd, long[][] pos) {
        int half = hd / 2;
        int[] section = c instanceof QwenTextEncoderConfig vl ? vl.mropeSection() : new int[0];
        int[] stream = new int[hd];
        if (section.length == 0) {
            section = new int[] {half};
        }
        int col = 0;
        for (int rep = 0; rep < 2; rep++) {
            for (int i = 0; i < section.length; i++) {
                for (int s = 0; s < section[i]; s++) {
                    stream[col++] = (rep * section.length + i) % 3;
                }
            }
        }
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            long[] streams = {pos[0][r], pos[1][r], pos[2][r]};
            for (int hh = 0; hh < heads; hh++) {
                int base = (r * heads + hh) * hd;
                for (int d = 0; d < hd; d++) {
                    double inv = 1.0 / Math.pow(c.ropeTheta(), 2.0 * (d % half) / hd);
                    double angle = streams[stream[d]] * inv;
                    double rot = d < half ? -x[base + d + half] : x[base + d - half];
                    out[base + d] = x[base + d] * Math.cos(angle) + rot * Math.sin(angle);
                }
            }
        }
        return out;
    }
}
