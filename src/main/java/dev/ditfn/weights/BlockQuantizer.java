package dev.ditfn.weights;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Symmetric block quantization of a linear weight {@code W [N = out, K = in]} into the layout of ORT's
 * {@code com.microsoft:MatMulNBits}: for each output row and each block of {@code blockSize} inputs,
 * {@code scale = max|w| / qmax} ({@code qmax} = 7 for 4 bits, 127 for 8) and {@code q = clamp(round(w / scale))}
 * stored offset by the operator's default zero point {@code 2^(bits-1)} (8 or 128), so no zero-point input is
 * needed. {@code B} is {@code uint8 [N, k_blocks, blockSize·bits/8]}, 4-bit values two to a byte, the even element
 * in the low nibble; the last block of a row whose {@code K} is not a multiple of the block size is padded with
 * zeros. {@code scales} is {@code [N·k_blocks]} in the activation type (float32 or float16), row-major.
 */
public final class BlockQuantizer {

    private BlockQuantizer() {
    }

    /**
     * A quantized weight: {@code packed} and {@code scales} are direct, native-order buffers (off the Java heap),
     * positioned at 0.
     */
    public record Quantized(ByteBuffer packed, ByteBuffer scales, long n, long k, int bits, int blockSize,
            DType scaleType) {
        public long blocks() {
            return (k + blockSize - 1) / blockSize;
        }

        public long[] packedShape() {
            return new long[] {n, blocks(), (long) blockSize * bits / 8};
        }

        public long[] scalesShape() {
            return new long[] {n * blocks()};
        }

        public long byteSize() {
            return packed.capacity() + (long) scales.capacity();
        }
    }

    /**
     * Quantizes {@code data} (little-endian {@code type} values, row-major {@code [n, k]}).
     *
     * @param scaleType FLOAT32 or FLOAT16: the element type of the graph's activations
     */
    public static Quantized quantize(ByteBuffer data, DType type, long n, long k, WeightQuantization q,
            DType scaleType) {
        if (!q.enabled()) {
            throw new IllegalArgumentException("quantization is off");
        }
        if (scaleType != DType.FLOAT32 && scaleType != DType.FLOAT16) {
            throw new IllegalArgumentException("MatMulNBits scales must be float32 or float16, not " + scaleType);
        }
        int bits = q.bits();
        int block = q.blockSize();
        long blocks = q.blocks(k);
        int blob = q.blobBytes();
        long packedBytes = Math.multiplyExact(Math.multiplyExact(n, blocks), (long) blob);
        long scaleCount = Math.multiplyExact(n, blocks);
        if (packedBytes > Integer.MAX_VALUE || scaleCount * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("weight [" + n + ", " + k + "] is too large to quantize in one buffer");
        }
        if ((long) data.remaining() < Math.multiplyExact(Math.multiplyExact(n, k), (long) type.byteSize())) {
            throw new IllegalArgumentException("weight data holds " + data.remaining() + " bytes, [" + n + ", " + k
                    + "] " + type + " needs more");
        }
        ByteBuffer src = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = src.position();
        ByteBuffer packed = ByteBuffer.allocateDirect((int) packedBytes).order(ByteOrder.nativeOrder());
        ByteBuffer scales = ByteBuffer.allocateDirect((int) scaleCount * scaleType.byteSize())
                .order(ByteOrder.LITTLE_ENDIAN);
        int qmax = (1 << (bits - 1)) - 1;
        int zero = 1 << (bits - 1);
        float[] w = new float[block];
        for (long row = 0; row < n; row++) {
            for (long b = 0; b < blocks; b++) {
                long k0 = b * block;
                int len = (int) Math.min(block, k - k0);
                float absMax = 0f;
                for (int j = 0; j < len; j++) {
                    w[j] = read(src, base, type, row * k + k0 + j);
                    absMax = Math.max(absMax, Math.abs(w[j]));
                }
                float scale = stored(absMax / qmax, scaleType);
                long scaleIndex = row * blocks + b;
                if (scaleType == DType.FLOAT32) {
                    scales.putFloat((int) scaleIndex * 4, scale);
                } else {
                    scales.putShort((int) scaleIndex * 2, Fp16Conversions.floatToFp16(scale));
                }
                float inv = scale == 0f ? 0f : 1f / scale;
                int out = (int) (scaleIndex * blob);
                for (int j = 0; j < block; j++) {
                    int v = zero;
                    if (j < len) {
                        v = zero + Math.max(-qmax, Math.min(qmax, Math.round(w[j] * inv)));
                    }
                    if (bits == 8) {
                        packed.put(out + j, (byte) v);
                    } else if ((j & 1) == 0) {
                        packed.put(out + j / 2, (byte) v);
                    } else {
                        packed.put(out + j / 2, (byte) ((packed.get(out + j / 2) & 0x0f) | (v << 4)));
                    }
                }
            }
        }
        return new Quantized(packed, scales, n, k, bits, block, scaleType);
    }

    /** The weight {@code q} stands for, {@code [n, k]} row-major float32 (the reference MatMulNBits computes with). */
    public static float[] dequantize(Quantized q) {
        long blocks = q.blocks();
        int blob = q.blockSize() * q.bits() / 8;
        int zero = 1 << (q.bits() - 1);
        float[] w = new float[Math.toIntExact(q.n() * q.k())];
        for (long row = 0; row < q.n(); row++) {
            for (long kk = 0; kk < q.k(); kk++) {
                long b = kk / q.blockSize();
                int j = (int) (kk % q.blockSize());
                long scaleIndex = row * blocks + b;
                float scale = q.scaleType() == DType.FLOAT32 ? q.scales().getFloat((int) scaleIndex * 4)
                        : Fp16Conversions.fp16ToFloat(q.scales().getShort((int) scaleIndex * 2));
                int at = (int) (scaleIndex * blob);
                int v = q.bits() == 8 ? q.packed().get(at + j) & 0xff
                        : (q.packed().get(at + j / 2) >> ((j & 1) * 4)) & 0x0f;
                w[(int) (row * q.k() + kk)] = (v - zero) * scale;
            }
        }
        return w;
    }

    private static float stored(float scale, DType scaleType) {
        return scaleType == DType.FLOAT32 ? scale : Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(scale));
    }

    private static float read(ByteBuffer src, int base, DType type, long index) {
        return switch (type) {
            case FLOAT32 -> src.getFloat(Math.toIntExact(base + index * 4));
            case FLOAT16 -> Fp16Conversions.fp16ToFloat(src.getShort(Math.toIntExact(base + index * 2)));
            case BFLOAT16 -> Float.intBitsToFloat((src.getShort(Math.toIntExact(base + index * 2)) & 0xffff) << 16);
            default -> throw new IllegalArgumentException("cannot quantize a " + type + " weight");
        };
    }
}
