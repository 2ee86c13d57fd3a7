package dev.ditfn.model.text;

import dev.ditfn.onnx.ReferenceMath;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.TensorSpec;
import dev.ditfn.weights.WeightStore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Plain-Java double-precision reference of the Qwen2.5-VL text-only forward (spec §4.3), written from the spec
 * rather than from the graph: embedding lookup; positions {@code cumsum(mask) - 1} per sample (1 at padding);
 * M-RoPE with three identical position streams and {@code mrope_section} chunk selection, rotate-half pairing;
 * pre-norm layers with Qwen2RMSNorm, GQA attention with a boolean causal + padding mask, SwiGLU MLP; final norm.
 * Tensors are flat row-major arrays.
 */
final class QwenTextReference {
    private final QwenTextEncoderConfig c;
    private final WeightStore store;
    private final String prefix;
    private final Map<String, double[]> cache = new HashMap<>();

    QwenTextReference(QwenTextEncoderConfig config, WeightStore store) {
        this.c = config;
        this.store = store;
        this.prefix = store.contains("model.embed_tokens.weight") ? "model." : "model.language_model.";
    }

    /** A stored weight as doubles (fp32, fp16 and bf16 files). */
    double[] w(String name) {
        return cache.computeIfAbsent(name, n -> {
            TensorSpec spec = store.spec(n);
            ByteBuffer b = store.data(n).order(ByteOrder.LITTLE_ENDIAN);
            double[] out = new double[(int) spec.elementCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch (spec.type()) {
                    case FLOAT32 -> b.getFloat(i * 4);
                    case FLOAT16 -> Fp16Conversions.fp16ToFloat(b.getShort(i * 2));
                    case BFLOAT16 -> Fp16Conversions.bf16ToFloat(b.getShort(i * 2));
                    default -> throw new IllegalArgumentException(n + " has type " + spec.type());
                };
            }
            return out;
        });
    }

    // ---- whole model -----------------------------------------------------------------------------------

    /** {@code last_hidden_state [B, L, hidden]} for {@code ids, mask [B, L]}; rows of padding positions are 0. */
    double[] forward(long[] ids, long[] mask, int batch, int len) {
        int hidden = c.hiddenSize();
        double[] emb = w(prefix + "embed_tokens.weight");
        double[] h = new double[batch * len * hidden];
        for (int t = 0; t < batch * len; t++) {
            System.arraycopy(emb, (int) ids[t] * hidden, h, t * hidden, hidden);
        }
        long[] pos = new long[batch * len];
        boolean[] allowed = new boolean[batch * len * len];
        for (int b = 0; b < batch; b++) {
            long sum = 0;
            for (int i = 0; i < len; i++) {
                sum += mask[b * len + i];
                pos[b * len + i] = mask[b * len + i] == 0 ? 1 : sum - 1;
                for (int j = 0; j < len; j++) {
                    allowed[(b * len + i) * len + j] = j <= i && mask[b * len + j] != 0;
                }
            }
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            h = layer(h, batch, len, pos, allowed, prefix + "layers." + l + ".");
        }
        double[] out = rmsNorm(h, batch * len, hidden, w(prefix + "norm.weight"), c.rmsNormEps());
        for (int t = 0; t < batch * len; t++) {
            if (mask[t] == 0) {
                java.util.Arrays.fill(out, t * hidden, (t + 1) * hidden, 0);
            }
        }
        return out;
    }

    // ---- one layer -------------------------------------------------------------------------------------

    /**
     * One decoder layer on {@code h [B, L, hidden]}; {@code pos [B, L]} positions, {@code allowed [B, L, L]} whether
     * query i may attend key j (a row with nothing allowed yields zero attention output).
     */
    double[] layer(double[] h, int batch, int len, long[] pos, boolean[] allowed, String lp) {
        int hidden = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int hd = c.headDim();
        int kvw = kvHeads * hd;
        int rows = batch * len;
        double eps = c.rmsNormEps();
        String a = lp + "self_attn.";
        double[] n = rmsNorm(h, rows, hidden, w(lp + "input_layernorm.weight"), eps);
        double[] q = linear(n, w(a + "q_proj.weight"), w(a + "q_proj.bias"), rows, hidden, hidden);
        double[] k = linear(n, w(a + "k_proj.weight"), w(a + "k_proj.bias"), rows, hidden, kvw);
        double[] v = linear(n, w(a + "v_proj.weight"), w(a + "v_proj.bias"), rows, hidden, kvw);
        q = mrope(q, rows, heads, hd, pos);
        k = mrope(k, rows, kvHeads, hd, pos);
        double[] attn = attention(q, k, v, batch, len, heads, kvHeads, hd, allowed);
        double[] o = linear(attn, w(a + "o_proj.weight"), null, rows, hidden, hidden);
        double[] h1 = new double[h.length];
        for (int i = 0; i < h.length; i++) {
            h1[i] = h[i] + o[i];
        }
        int inter = c.intermediateSize();
        String m = lp + "mlp.";
        n = rmsNorm(h1, rows, hidden, w(lp + "post_attention_layernorm.weight"), eps);
        double[] gate = linear(n, w(m + "gate_proj.weight"), null, rows, hidden, inter);
        double[] up = linear(n, w(m + "up_proj.weight"), null, rows, hidden, inter);
        double[] act = new double[gate.length];
        for (int i = 0; i < act.length; i++) {
            act[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        }
        double[] down = linear(act, w(m + "down_proj.weight"), null, rows, inter, hidden);
        double[] out = new double[h.length];
        for (int i = 0; i < h.length; i++) {
            out[i] = h1[i] + down[i];
        }
        return out;
    }

    /** Causal mask for unpadded sequences: {@code allowed[b, i, j] = j <= i}. */
    static boolean[] causal(int batch, int len) {
        boolean[] allowed = new boolean[batch * len * len];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < len; i++) {
                for (int j = 0; j <= i; j++) {
                    allowed[(b * len + i) * len + j] = true;
                }
            }
        }
        return allowed;
    }

    // ---- building blocks -------------------------------------------------------------------------------

    /** Qwen2RMSNorm over the last axis: {@code w · x / sqrt(mean(x²) + eps)}. */
    static double[] rmsNorm(double[] x, int rows, int dim, double[] w, double eps) {
        return ReferenceMath.rmsNorm(x, rows, dim, w, eps);
    }

    /** {@code x [rows, in] · Wᵀ + b}, {@code W [out, in]}, {@code b} may be null. */
    static double[] linear(double[] x, double[] w, double[] b, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /**
     * Multimodal RoPE on {@code x [rows, heads·hd]} as Qwen2.5-VL applies it to text: three position streams
     * (t, h, w), all equal to {@code pos}; {@code emb = concat(p·inv, p·inv)} per stream; the hd columns split into
     * chunks {@code mrope_section * 2}, chunk i taken from stream {@code i mod 3}; then rotate-half:
     * {@code y = x·cos + rotate_half(x)·sin}, {@code rotate_half(x) = concat(-x[hd/2:], x[:hd/2])}.
     */
    double[] mrope(double[] x, int rows, int heads, int hd, long[] pos) {
        int half = hd / 2;
        int[] section = c.mropeSection();
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
            long[] streams = {pos[r], pos[r], pos[r]};
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

    /**
     * Softmax attention, {@code q [B, L, H·hd]}, {@code k, v [B, L, Hkv·hd]}, query head h reading kv head
     * {@code h / (H/Hkv)}, scale {@code 1/sqrt(hd)}, only keys with {@code allowed} (rows with none give 0).
     */
    static double[] attention(double[] q, double[] k, double[] v, int batch, int len, int heads, int kvHeads, int hd,
            boolean[] allowed) {
        int group = heads / kvHeads;
        double scale = 1 / Math.sqrt(hd);
        double[] out = new double[batch * len * heads * hd];
        double[] p = new double[len];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = h / group;
                for (int i = 0; i < len; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        if (!allowed[(b * len + i) * len + j]) {
                            p[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double s = 0;
                        for (int d = 0; d < hd; d++) {
                            s += q[((b * len + i) * heads + h) * hd + d] * k[((b * len + j) * kvHeads + g) * hd + d];
                        }
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    if (max == Double.NEGATIVE_INFINITY) {
                        continue;
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) {
                        p[j] = p[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int j = 0; j < len; j++) {
                            acc += p[j] * v[((b * len + j) * kvHeads + g) * hd + d];
                        }
                        out[((b * len + i) * heads + h) * hd + d] = acc / sum;
                    }
                }
            }
        }
        return out;
    }
}
