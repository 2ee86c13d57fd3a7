package dev.ditfn.model.text;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;

/**
 * The Qwen2.5-VL text encoder with image embeddings spliced in at the {@code <|image_pad|>} rows and M-RoPE tables
 * ({@link QwenTextEncoder#buildWithImages}) against {@link QwenTextReference}, which replaces the rows itself and
 * applies M-RoPE from the 3-axis ids. Tolerances as in {@link QwenTextEncoderTest}.
 */
class QwenTextEncoderImageTest {
    static final QwenTextEncoderConfig TINY = QwenTextEncoderConfig.TINY;
    static final ByteLevelBpeTokenizer TOK = TinyTokenizer.tokenizer();
    static final long VS = TOK.encode(TinyTokenizer.VISION_START)[0];
    static final long PAD = TOK.encode(TinyTokenizer.IMAGE_PAD)[0];

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("model.safetensors");

    /** {@code <|im_start|>user\n}, then each image ({@code <|vision_start|>} pads {@code <|vision_end|>}) and text. */
    private static long[] prompt(int... padsPerImage) {
        List<Long> ids = new java.util.ArrayList<>();
        add(ids, TOK.encode("<|im_start|>user\n"));
        for (int pads : padsPerImage) {
            add(ids, TOK.encode(TinyTokenizer.VISION_START));
            add(ids, LongStream.generate(() -> PAD).limit(pads).toArray());
            add(ids, TOK.encode(TinyTokenizer.VISION_END + "a red cat"));
        }
        add(ids, TOK.encode("<|im_end|>"));
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    private static void add(List<Long> to, long[] ids) {
        Arrays.stream(ids).forEach(to::add);
    }

    private Map<String, Input> inputs(long[] ids, long[][] pos, float[] embeds) {
        int len = ids.length;
        int hd = TINY.headDim();
        QwenTextInputs.Rope rope = QwenTextInputs.mropeTables(pos, hd, TINY.ropeTheta(), TINY.mropeSection());
        long[] mask = new long[len];
        Arrays.fill(mask, 1);
        long[] rows = QwenTextInputs.imagePositions(ids, PAD);
        return Map.of(QwenTextEncoder.INPUT_IDS, Input.ofLongs(ids, 1, len),
                QwenTextEncoder.COS, Input.of(rope.cos(), len, hd), QwenTextEncoder.SIN, Input.of(rope.sin(), len, hd),
                QwenTextEncoder.ATTENTION_BIAS, Input.of(QwenTextInputs.attentionBias(mask, 1, len), 1, 1, len, len),
                QwenTextEncoder.IMAGE_EMBEDS, Input.of(embeds, rows.length, TINY.hiddenSize()),
                QwenTextEncoder.IMAGE_POSITIONS, Input.ofLongs(rows, rows.length));
    }

    /** The reference's input embeddings: token embeddings with the pad rows replaced, in order, by {@code embeds}. */
    private static double[] spliced(QwenTextReference ref, long[] ids, float[] embeds) {
        int hidden = TINY.hiddenSize();
        double[] h = ref.embed(ids);
        int next = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == PAD) {
                for (int k = 0; k < hidden; k++) {
                    h[i * hidden + k] = embeds[next * hidden + k];
                }
                next++;
            }
        }
        assertEquals(embeds.length / hidden, next, "every image row is used");
        return h;
    }

    private void check(GraphTarget target, DType weights, double tol, int[][] grids) throws Exception {
        WeightStore store = r.random(weights, 31, w -> TINY.writeRandomWeights(w, false)).store();
        int[] pads = Arrays.stream(grids).mapToInt(g -> g[0] * g[1]).toArray();
        long[] ids = prompt(pads);
        long[][] pos = QwenTextInputs.mropePositionIds(ids, PAD, VS, grids);
        float[] embeds = normal(new Random(8), Arrays.stream(pads).sum() * TINY.hiddenSize());
        GraphBuilder g = new QwenTextEncoder(TINY).buildWithImages(target, store, WeightQuantization.NONE);
        float[] got = r.runSingle(g, inputs(ids, pos, embeds), 1, ids.length, TINY.hiddenSize());
        QwenTextReference ref = new QwenTextReference(TINY, store);
        double[] want = ref.forwardEmbeds(spliced(ref, ids, embeds), pos, ids.length);
        assertClose(want, got, tol, target + ", images " + Arrays.deepToString(grids));
        if (target == GraphTarget.CPU_FP32) {
            // The 3-axis ids matter: with plain 1-D positions the reference lands far away.
            long[] plain = LongStream.range(0, ids.length).toArray();
            double[] oneD = ref.forwardEmbeds(spliced(ref, ids, embeds), new long[][] {plain, plain, plain},
                    ids.length);
            double diff = 0;
            for (int i = 0; i < oneD.length; i++) {
                diff = Math.max(diff, Math.abs(oneD[i] - got[i]));
            }
            assertTrue(diff > 100 * tol, "1-D positions differ by only " + diff);
        }
    }

    @Test
    void oneSplicedImageWithMropeMatchesReference() throws Exception {
        check(GraphTarget.CPU_FP32, DType.FLOAT32, QwenTextEncoderTest.FP32_TOL, new int[][] {{2, 3}});
    }

    @Test
    void twoSplicedImagesMatchReference() throws Exception {
        check(GraphTarget.CPU_FP32, DType.FLOAT32, QwenTextEncoderTest.FP32_TOL, new int[][] {{2, 3}, {3, 2}});
    }

    @Test
    void splicedImageFp16StandardOpsMatchesReference() throws Exception {
        check(GraphTarget.CANN_FP16, DType.FLOAT16, QwenTextEncoderTest.FP16_TOL, new int[][] {{2, 2}});
    }

    @Test
    void imageGraphAddsTwoInputsAndKeepsTheTextOnlyOnes() {
        WeightStore store = r.random(DType.FLOAT32, 1, w -> TINY.writeRandomWeights(w, false)).store();
        assertEquals(List.of(QwenTextEncoder.INPUT_IDS, QwenTextEncoder.COS, QwenTextEncoder.SIN,
                QwenTextEncoder.ATTENTION_BIAS, QwenTextEncoder.IMAGE_EMBEDS, QwenTextEncoder.IMAGE_POSITIONS),
                new QwenTextEncoder(TINY).buildWithImages(GraphTarget.CPU_FP32, store, WeightQuantization.NONE).inputNames());
        assertEquals(List.of(QwenTextEncoder.INPUT_IDS, QwenTextEncoder.COS, QwenTextEncoder.SIN,
                QwenTextEncoder.ATTENTION_BIAS), new QwenTextEncoder(TINY).build(GraphTarget.CPU_FP32, store)
                .inputNames());
    }
}
