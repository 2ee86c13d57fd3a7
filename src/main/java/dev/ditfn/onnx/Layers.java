package dev.ditfn.onnx;

import java.util.Arrays;


/**
 * Composite layers that DiTs, VAEs and decoder LLMs are made of, emitted as ONNX ops on a
 * {@link GraphBuilder}. Weights come in as {@link Value}s in the layout PyTorch stores them.
 * Normalisation statistics are computed in fp32 whatever the activation type.
 */
public final class Layers {
    private final GraphBuilder g;

    public Layers(GraphBuilder g) {
        this.g = g;
    }

    /**
     * {@code x · Wᵀ + b} with {@code W} stored {@code [out, in]} (ORT folds the transpose at load). A weight the graph
     * quantizes ({@link GraphBuilder#weight} under a {@link WeightQuantization}) runs as
     * {@code com.microsoft:MatMulNBits} then {@code Add} of the bias; a full-precision one as FusedMatMul then Add
     * where the target says so ({@link GraphTarget#fusedMatMulLinear()}), else as a 2-D Gemm between reshapes.
     */
    public Value linear(Value x, Value weight, Value bias) {
        GraphBuilder.QuantizedWeight q = g.quantized(weight);
        if (q != null) {
            Value y = g.contribOp("MatMulNBits", java.util.List.of(x, new Value(q.packedName()),
                    new Value(q.scalesName())), Attr.of("K", q.k()), Attr.of("N", q.n()),
                    Attr.of("bits", (long) q.quantization().bits()),
                    Attr.of("block_size", (long) q.quantization().blockSize()),
                    Attr.of("accuracy_level", (long) q.quantization().accuracyLevel()));
            return bias == null ? y : g.add(y, bias);
        }
        if (g.target().fusedMatMulLinear()) {
            Value y = g.contribOp("FusedMatMul", java.util.List.of(x, weight), Attr.of("transB", 1L));
            return bias == null ? y : g.add(y, bias);
        }
        Value lead = g.slice(g.shape(x), 0, 0, -1);
        Value flat = g.reshape(x, g.concat(0, g.constLongs(-1), g.slice(g.shape(x), 0, -1, Long.MAX_VALUE)));
        Value y = g.gemm(flat, weight, bias, true);
        return g.reshape(y, g.concat(0, lead, g.constLongs(-1)));
    }

    /** RMSNorm over the last axis: {@code x · rsqrt(mean(x²) + eps) · w}; {@code w} may be null. */
    public Value rmsNorm(Value x, Value weight, float eps) {
        Value x32 = toF32(x);
        Value meanSq = g.reduceMean(g.mul(x32, x32), -1);
        Value normed = fromF32(g.mul(x32, g.reciprocal(g.sqrt(g.add(meanSq, g.scalarF32(eps))))));
        return weight == null ? normed : g.mul(normed, weight);
    }

    /** LayerNorm over the last axis of width {@code dim}; null scale/bias mean no affine part. */
    public Value layerNorm(Value x, long dim, Value scale, Value bias, float eps) {
        Value x32 = toF32(x);
        if (g.target().fusedLayerNorm()) {
            Value s = scale == null ? ones(dim) : toF32(scale);
            Value b = bias == null ? zeros(dim) : toF32(bias);
            return fromF32(g.layerNormalization(x32, s, b, eps));
        }
        // biased variance of the centred values, as LayerNormalization computes it
        Value centred = g.sub(x32, g.reduceMean(x32, -1));
        Value variance = g.reduceMean(g.mul(centred, centred), -1);
        Value y = g.mul(centred, g.reciprocal(g.sqrt(g.add(variance, g.scalarF32(eps)))));
        if (scale != null) {
            y = g.mul(y, toF32(scale));
        }
        if (bias != null) {
            y = g.add(y, toF32(bias));
        }
        return fromF32(y);
    }

    /**
     * GroupNorm on {@code [B, C, *spatial]}: statistics per sample and group of {@code C/groups} channels
     * (biased variance), then per-channel {@code scale} and {@code bias} (either may be null).
     */
    public Value groupNorm(Value x, long channels, long groups, Value scale, Value bias, float eps, int spatialRank) {
        Value x32 = toF32(x);
        Value grouped = g.reshape(x32, 0, groups, -1);
        Value mean = g.reduceMean(grouped, 2);
        Value centered = g.sub(grouped, mean);
        Value var = g.reduceMean(g.mul(centered, centered), 2);
        Value normed = g.div(centered, g.sqrt(g.add(var, g.scalarF32(eps))));
        Value y = fromF32(g.reshape(normed, g.shape(x)));
        long[] perChannel = new long[1 + spatialRank];
        Arrays.fill(perChannel, 1);
        perChannel[0] = channels;
        if (scale != null) {
            y = g.mul(y, g.reshape(scale, perChannel));
        }
        if (bias != null) {
            y = g.add(y, g.reshape(bias, perChannel));
        }
        return y;
    }

    /** 2-D convolution, weight {@code [out, in/group, kH, kW]}, symmetric zero padding. */
    public Value conv2d(Value x, Value weight, Value bias, long stride, long pad) {
        return g.conv(x, weight, bias, new long[] {stride, stride}, new long[] {pad, pad, pad, pad}, 1);
    }

    /**
     * 2-D convolution, weight {@code [out, in, kH, kW]}, with {@code padEnd} zero rows at the bottom and zero columns
     * on the right only ({@code F.pad(x, (0, p, 0, p))} then a valid conv, as in stride-2 downsamplers).
     */
    public Value conv2dPadEnd(Value x, Value weight, Value bias, long stride, long padEnd) {
        return g.conv(x, weight, bias, new long[] {stride, stride}, new long[] {0, 0, padEnd, padEnd}, 1);
    }

    /** 3-D convolution, weight {@code [out, in, kT, kH, kW]}, explicit ONNX pads (3 begins, 3 ends). */
    public Value conv3d(Value x, Value weight, Value bias, long[] strides, long[] pads) {
        return g.conv(x, weight, bias, strides, pads, 1);
    }

    /**
     * Scaled-dot-product attention on merged heads: {@code q [B, Sq, H·hd]}, {@code k, v [B, Sk, Hkv·hd]},
     * optional additive {@code bias} broadcastable to {@code [B, H, Sq, Sk]} (0 = attend, -inf = masked).
     * Key/value heads are shared by {@code H/Hkv} query heads each (grouped-query attention).
     * Returns {@code [B, Sq, H·hd]}. Emits {@code com.microsoft:MultiHeadAttention} where the target
     * allows it, else MatMul/Softmax/MatMul.
     */
    public Value attention(Value q, Value k, Value v, long heads, long kvHeads, long headDim, Value bias) {
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot share " + kvHeads + " key/value heads");
        }
        Value kk = repeatKv(k, heads, kvHeads, headDim);
        Value vv = repeatKv(v, heads, kvHeads, headDim);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        if (g.target().allowsContribOps()) {
            return g.contribOp("MultiHeadAttention", Arrays.asList(q, kk, vv, null, null, bias),
                    Attr.of("num_heads", heads), Attr.of("scale", scale));
        }
        Value qh = splitHeads(q, heads, headDim);
        Value kt = g.transpose(g.reshape(kk, 0, 0, heads, headDim), 0, 2, 3, 1);
        Value vh = splitHeads(vv, heads, headDim);
        Value scores = g.mul(g.matMul(qh, kt), g.scalar(scale));
        if (bias != null) {
            scores = g.add(scores, bias);
        }
        Value probs = fromF32(g.softmax(toF32(scores), -1));
        return g.reshape(g.transpose(g.matMul(probs, vh), 0, 2, 1, 3), 0, 0, heads * headDim);
    }

    /**
     * Interleaved-pair RoPE (Flux, Qwen-Image, Z-Image; {@code view_as_complex} on adjacent pairs) of
     * {@code x [B, S, H, hd]}, in fp32: pair {@code k = (x[2k], x[2k+1])} becomes
     * {@code (x0·cos − x1·sin, x0·sin + x1·cos)} with {@code cos, sin [S, 1, hd/2, 1]} float32 (angle of pair k at
     * each position). Returns merged heads {@code [B, S, H·hd]} in the activation type.
     */
    public Value rotatePairs(Value x, Value cos, Value sin) {
        Value x32 = toF32(x);
        Value[] pair = g.split(g.reshape(x32, 0, 0, 0, -1, 2), 4, 1, 1);
        Value re = g.sub(g.mul(pair[0], cos), g.mul(pair[1], sin));
        Value im = g.add(g.mul(pair[0], sin), g.mul(pair[1], cos));
        return fromF32(g.reshape(g.concat(4, re, im), 0, 0, -1));
    }

    /**
     * Rotate-half RoPE (Qwen2.5-VL vision tower, {@code apply_rotary_pos_emb_vision}) of {@code x [B, S, H, hd]} ({@code hd = headDim}), in
     * fp32 whatever the activation type: {@code y = x·cos + concat(-x[hd/2:], x[:hd/2])·sin} with
     * {@code cos, sin [S, 1, hd]} float32. Returns merged heads {@code [B, S, H·hd]} in the activation type.
     */
    public Value rotateHalf(Value x, long headDim, Value cos, Value sin) {
        Value x32 = toF32(x);
        Value[] halves = g.split(x32, 3, headDim / 2, headDim / 2);
        Value rotated = g.concat(3, g.neg(halves[1]), halves[0]);
        Value y = g.add(g.mul(x32, cos), g.mul(rotated, sin));
        return fromF32(g.reshape(y, 0, 0, -1));
    }

    /** {@code [B, C, H, W]} to {@code [B, H·W, C]}: each pixel a token, row-major over (H, W). */
    public Value imageToTokens(Value x) {
        return g.transpose(g.reshape(x, 0, 0, -1), 0, 2, 1);
    }

    /** The inverse of {@link #imageToTokens}: {@code [B, H·W, C]} back to the shape of {@code like [B, C, H, W]}. */
    public Value tokensToImage(Value tokens, Value like) {
        return g.reshape(g.transpose(tokens, 0, 2, 1), g.shape(like));
    }

    private Value splitHeads(Value x, long heads, long headDim) {
        return g.transpose(g.reshape(x, 0, 0, heads, headDim), 0, 2, 1, 3);
    }

    /** {@code [B, S, Hkv·hd]} to {@code [B, S, H·hd]}, each kv head repeated for its group of query heads. */
    private Value repeatKv(Value x, long heads, long kvHeads, long headDim) {
        if (heads == kvHeads) {
            return x;
        }
        long groups = heads / kvHeads;
        Value perHead = g.unsqueeze(g.reshape(x, 0, 0, kvHeads, headDim), 3);
        Value target = g.concat(0, g.slice(g.shape(x), 0, 0, 2), g.constLongs(kvHeads, groups, headDim));
        return g.reshape(g.expand(perHead, target), 0, 0, heads * headDim);
    }

    private Value ones(long dim) {
        float[] v = new float[(int) dim];
        Arrays.fill(v, 1f);
        return f32Const(v, dim);
    }

    private Value zeros(long dim) {
        return f32Const(new float[(int) dim], dim);
    }

    private Value f32Const(float[] values, long dim) {
        Value c = g.constFloats(values, dim);
        return g.act() == DType.FLOAT32 ? c : g.cast(c, DType.FLOAT32);
    }

    private Value toF32(Value x) {
        return g.act() == DType.FLOAT32 ? x : g.cast(x, DType.FLOAT32);
    }

    private Value fromF32(Value x) {
        return g.act() == DType.FLOAT32 ? x : g.cast(x, g.act());
    }

}
