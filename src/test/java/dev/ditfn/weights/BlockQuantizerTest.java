package dev.ditfn.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

class BlockQuantizerTest {

    private static ByteBuffer f32(float... w) {
        ByteBuffer b = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : w) {
            b.putFloat(v);
        }
        return b.flip();
    }

    private static ByteBuffer bf16(float... w) {
        ByteBuffer b = ByteBuffer.allocate(w.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : w) {
            b.putShort((short) (Float.floatToIntBits(v) >>> 16));
        }
        return b.flip();
    }

    private static ByteBuffer f16(float... w) {
        ByteBuffer b = ByteBuffer.allocate(w.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : w) {
            b.putShort(Fp16Conversions.floatToFp16(v));
        }
        return b.flip();
    }

    @Test
    void int4NibblesAreLowFirstAroundTheMidpoint() {
        // one row, one block of 32: absmax 7 -> scale 1, values -7..7 stored as q + 8
        float[] w = new float[32];
        w[0] = 1;
        w[1] = -2;
        w[2] = 7;
        w[3] = -7;
        var q = BlockQuantizer.quantize(f32(w), DType.FLOAT32, 1, 32, WeightQuantization.of(4, 32), DType.FLOAT32);
        assertArrayEquals(new long[] {1, 1, 16}, q.packedShape());
        assertArrayEquals(new long[] {1}, q.scalesShape());
        assertEquals(1f, q.scales().getFloat(0));
        assertEquals((byte) (9 | (6 << 4)), q.packed().get(0), "w0=1 -> 9 low nibble, w1=-2 -> 6 high nibble");
        assertEquals((byte) (15 | (1 << 4)), q.packed().get(1));
        assertEquals((byte) 0x88, q.packed().get(2), "zeros are the midpoint 8");
        assertTrue(q.packed().isDirect());
    }

    @Test
    void int8StoresQPlus128() {
        float[] w = new float[32];
        w[0] = 127f;
        w[1] = -1f;
        w[2] = -127f;
        var q = BlockQuantizer.quantize(f32(w), DType.FLOAT32, 1, 32, WeightQuantization.of(8, 32), DType.FLOAT32);
        assertArrayEquals(new long[] {1, 1, 32}, q.packedShape());
        assertEquals(1f, q.scales().getFloat(0));
        assertEquals(255, q.packed().get(0) & 0xff);
        assertEquals(127, q.packed().get(1) & 0xff);
        assertEquals(1, q.packed().get(2) & 0xff);
        assertEquals(128, q.packed().get(3) & 0xff);
    }

    @ParameterizedTest(name = "int{0} block {1} K={2}")
    @CsvSource({"4,32,64", "4,64,100", "4,128,200", "8,32,40", "8,64,128", "8,128,130"})
    void roundTripIsWithinHalfAStepPerBlock(int bits, int block, int k) {
        int n = 5;
        Random rnd = new Random(bits * 1000 + k);
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * (1 + i % 7));
        }
        var wq = WeightQuantization.of(bits, block);
        var q = BlockQuantizer.quantize(f32(w), DType.FLOAT32, n, k, wq, DType.FLOAT32);
        assertEquals((k + block - 1) / block, q.blocks(), "the last block is padded");
        float[] back = BlockQuantizer.dequantize(q);
        int qmax = (1 << (bits - 1)) - 1;
        for (int r = 0; r < n; r++) {
            for (int b = 0; b < q.blocks(); b++) {
                float absMax = 0;
                for (int j = b * block; j < Math.min(k, (b + 1) * block); j++) {
                    absMax = Math.max(absMax, Math.abs(w[r * k + j]));
                }
                float step = absMax / qmax;
                for (int j = b * block; j < Math.min(k, (b + 1) * block); j++) {
                    float err = Math.abs(back[r * k + j] - w[r * k + j]);
                    assertTrue(err <= step / 2 * (1 + 1e-5f), "row " + r + " k " + j + ": error " + err
                            + " exceeds half a step " + step / 2);
                }
            }
        }
        // padding of the last block holds the zero point
        if (k % block != 0) {
            int lastBlob = (int) ((q.blocks() - 1) * block * bits / 8 + block * bits / 8 - 1);
            assertEquals(bits == 8 ? (byte) 128 : (byte) 0x88, q.packed().get(lastBlob));
        }
    }

    @Test
    void halfPrecisionSourcesAndScales() {
        float[] w = new float[64];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i - 32) / 16f;
        }
        var wq = WeightQuantization.of(8, 32);
        float[] fromBf16 = BlockQuantizer.dequantize(BlockQuantizer.quantize(bf16(w), DType.BFLOAT16, 2, 32, wq,
                DType.FLOAT32));
        float[] fromF16 = BlockQuantizer.dequantize(BlockQuantizer.quantize(f16(w), DType.FLOAT16, 2, 32, wq,
                DType.FLOAT16));
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], fromBf16[i], 2.0 / 127 / 2 + 1e-6, "bf16 " + i);
            assertEquals(w[i], fromF16[i], 2.0 / 127 / 2 * 1.01 + 1e-6, "fp16 scales " + i);
        }
    }

    @Test
    void refusesWhatMatMulNBitsCannotTake() {
        assertThrows(IllegalArgumentException.class, () -> WeightQuantization.of(3, 32));
        assertThrows(IllegalArgumentException.class, () -> WeightQuantization.of(4, 48));
        assertThrows(IllegalArgumentException.class, () -> BlockQuantizer.quantize(f32(new float[32]), DType.FLOAT32,
                1, 32, WeightQuantization.of(4, 32), DType.BFLOAT16));
        assertThrows(IllegalArgumentException.class, () -> BlockQuantizer.quantize(f32(new float[16]), DType.FLOAT32,
                1, 32, WeightQuantization.of(4, 32), DType.FLOAT32));
    }
}
