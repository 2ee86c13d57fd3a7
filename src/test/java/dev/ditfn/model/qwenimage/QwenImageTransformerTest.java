package dev.ditfn.model.qwenimage;

import static dev.ditfn.model.qwenimage.QwenImageTransformer.ENCODER_HIDDEN_STATES;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.HIDDEN_STATES;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.IMG;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.IMG_MOD_0;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.IMG_OUT;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.MODULATED_INPUT;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.TEMB;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.TEMB_OUT;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.TIMESTEP;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.TXT;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.TXT_OUT;
import static dev.ditfn.model.qwenimage.QwenImageTransformer.VELOCITY;
import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.ReferenceMath.f;
import static dev.ditfn.testing.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.dit.TransformerSegment;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner.Output;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Qwen-Image DiT graphs on the TINY config (random fp32 weights), run by ORT's CPU provider (CPU_FP32: attention
 * through com.microsoft:MultiHeadAttention), against the double-precision {@link QwenImageReference}.
 *
 * <p>Tolerances, as {@code |ort − ref| ≤ tol·(1 + |ref|)}: fp32 graph vs double reference 1e-4 (fp32 GEMMs over
 * widths up to 4D = 256 and a softmax over 21 keys accumulate a few 1e-6 relative; 1e-4 leaves margin yet catches any
 * wrong operation, which moves values by O(0.1)); segmented vs monolithic graph 1e-5 (same fp32 kernels; only fusion
 * choices across the graph boundaries may differ).
 */
class QwenImageTransformerTest {
    static final double FP32_TOL = 1e-4;
    static final double SEGMENT_TOL = 1e-5;
    /** TINY grid for a 64×64 image: h2 = w2 = 4 (N = 16), five text tokens. */
    static final int H2 = 4;
    static final int W2 = 4;
    static final int N = H2 * W2;
    static final int L = 5;

    @TempDir
    Path dir;
    private QwenTestModel m;
    private QwenImageReference ref;
    private final Random rnd = new Random(2024);
    private final QwenImageTransformerConfig c = QwenImageTransformerConfig.TINY;
    private final int dim = c.innerDim();

    @BeforeEach
    void setUp() {
        m = new QwenTestModel(dir, c, 11);
        ref = new QwenImageReference(c, m.store);
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    private Map<String, Input> prologueInputs(float[] x, float[] e, float[] sigma, int batch) {
        return prologueInputs(x, e, sigma, batch, H2, W2, L);
    }

    private Map<String, Input> prologueInputs(float[] x, float[] e, float[] sigma, int batch, int h2, int w2,
            int textLen) {
        Map<String, Input> in = new HashMap<>(m.ropeInputs(h2, w2, textLen));
        in.put(HIDDEN_STATES, Input.of(x, batch, h2 * w2, c.inChannels()));
        in.put(ENCODER_HIDDEN_STATES, Input.of(e, batch, textLen, c.jointAttentionDim()));
        in.put(TIMESTEP, Input.of(sigma, batch));
        return in;
    }

    private Map<String, Input> streamInputs(float[] img, float[] txt, float[] temb, int batch) {
        Map<String, Input> in = new HashMap<>(m.ropeInputs(H2, W2, L));
        in.put(IMG, Input.of(img, batch, N, dim));
        in.put(TXT, Input.of(txt, batch, L, dim));
        in.put(TEMB, Input.of(temb, batch, dim));
        return in;
    }

    /** The next segment's inputs (batch 1): the streams a segment returned, {@code temb} from the prologue's. */
    private Map<String, Input> chained(Map<String, Output> streams, Map<String, Output> prologue) {
        return streamInputs(streams.get(IMG_OUT).values(), streams.get(TXT_OUT).values(),
                prologue.get(TEMB_OUT).values(), 1);
    }

    /** Runs {@code segment} as a CPU_FP32 graph. */
    private Map<String, Output> run(TransformerSegment segment, Map<String, Input> inputs) throws Exception {
        return m.runner.run(m.build(GraphTarget.CPU_FP32, segment), inputs);
    }

    // ---- (a) timestep embedding ------------------------------------------------------------------------

    @Test
    void timestepEmbeddingMatchesReference() throws Exception {
        float[] sigma = {1.0f, 0.5f, 0.02f};
        int b = sigma.length;
        GraphBuilder g = m.build(GraphTarget.CPU_FP32, new TransformerSegment(0, 0, true, false, false));
        Map<String, Output> out = m.runner.run(g, prologueInputs(normal(rnd, b * N * c.inChannels()),
                normal(rnd, b * L * c.jointAttentionDim()), sigma, b));
        assertEquals(Set.of(IMG_OUT, TXT_OUT, TEMB_OUT, IMG_MOD_0 + "_out"), out.keySet());
        assertClose(ref.timestepEmbedding(sigma), out.get(TEMB_OUT).values(), FP32_TOL,
                "(a) temb for sigma 1, 0.5, 0.02");
    }

    @Test
    void prologueStreamsMatchReference() throws Exception {
        int b = 2;
        float[] x = normal(rnd, b * N * c.inChannels());
        float[] e = normal(rnd, b * L * c.jointAttentionDim());
        float[] sigma = {0.7f, 0.3f};
        Map<String, Output> out = run(new TransformerSegment(0, 0, true, false, false), prologueInputs(x, e, sigma, b));
        QwenImageReference.State s = ref.prologue(x, e, sigma, b, N, L);
        assertClose(s.img(), out.get(IMG_OUT).values(), FP32_TOL, "prologue img_in");
        assertClose(s.txt(), out.get(TXT_OUT).values(), FP32_TOL, "prologue txt_norm + txt_in");
    }

    /**
     * fp16 activations (CANN_FP16 on the CPU provider): sigma and the frequencies f_k are rounded to fp16 before the
     * fp32 sinusoid, as upstream. Generated models zero linear_1's fast channels, where rounding f_k matters most
     * (it moves 1000·σ·f_k by up to 0.24 rad), so this model's prologue has a full-band linear_1, as real models do.
     */
    @Test
    void fp16TimestepEmbeddingRoundsFrequenciesToFp16() throws Exception {
        long joint = c.jointAttentionDim();
        try (QwenTestModel full = new QwenTestModel(Files.createDirectory(dir.resolve("full-band")), c, 5, w -> {
            w.linear("img_in", dim, c.inChannels(), true);
            w.gain("txt_norm.weight", joint);
            w.linear("txt_in", dim, joint, true);
            w.linear("time_text_embed.timestep_embedder.linear_1", dim, QwenImageTransformer.TIMESTEP_CHANNELS, true);
            w.linear("time_text_embed.timestep_embedder.linear_2", dim, dim, true);
            w.linear("transformer_blocks.0.img_mod.1", 6L * dim, dim, true); // the prologue hands block 0 its modulation
        })) {
            QwenImageReference fullRef = new QwenImageReference(c, full.store);
            float[] sigma = {1.0f, 0.7f, 0.3f};
            int b = sigma.length;
            Map<String, Input> in = new HashMap<>(full.ropeInputs(H2, W2, L));
            in.put(HIDDEN_STATES, Input.of(normal(rnd, b * N * c.inChannels()), b, N, c.inChannels()));
            in.put(ENCODER_HIDDEN_STATES, Input.of(normal(rnd, b * L * (int) joint), b, L, joint));
            in.put(TIMESTEP, Input.of(sigma, b));
            float[] temb = full.runner.run(full.build(GraphTarget.CANN_FP16, new TransformerSegment(0, 0, true, false,
                    false)), in).get(TEMB_OUT).values();

            double[] expected = fullRef.timestepEmbedding(sigma, DType.FLOAT16);
            float[] sigma16 = new float[b];
            for (int i = 0; i < b; i++) {
                sigma16[i] = QwenImageReference.fp16(sigma[i]);
            }
            double[] fp32Frequencies = fullRef.timestepEmbedding(sigma16, DType.FLOAT32);
            double apart = 0;
            for (int i = 0; i < expected.length; i++) {
                apart = Math.max(apart, Math.abs(expected[i] - fp32Frequencies[i]));
            }
            System.out.printf("[qwen-image] fp16 vs fp32 frequencies: temb apart by up to %.3e%n", apart);
            assertTrue(apart > 0.02, "fp16 and fp32 frequencies must give measurably different temb: " + apart);
            assertClose(expected, temb, 1e-2, "fp16 temb, frequencies rounded to fp16");
        }
    }

    // ---- (c) one dual-stream block ---------------------------------------------------------------------

    @Test
    void oneBlockMatchesReference() throws Exception {
        int b = 2;
        float[] img = normal(rnd, b * N * dim);
        float[] txt = normal(rnd, b * L * dim);
        float[] temb = normal(rnd, b * dim);
        GraphBuilder g = m.build(GraphTarget.CPU_FP32, new TransformerSegment(1, 2, false, false, false));
        Map<String, Output> out = m.runner.run(g, streamInputs(img, txt, temb, b));
        assertEquals(Set.of(IMG_OUT, TXT_OUT), out.keySet());
        QwenImageReference.BlockOut r = ref.block(1, d(img), d(txt), d(temb), b, H2, W2, L);
        assertClose(r.img(), out.get(IMG_OUT).values(), FP32_TOL, "(c) block 1 image stream, B=2");
        assertClose(r.txt(), out.get(TXT_OUT).values(), FP32_TOL, "(c) block 1 text stream, B=2");
    }

    // ---- (d) monolithic forward ------------------------------------------------------------------------

    @Test
    void wholeForwardMatchesReference() throws Exception {
        float[] x = normal(rnd, N * c.inChannels());
        float[] e = normal(rnd, L * c.jointAttentionDim());
        float[] sigma = {0.6f};
        GraphBuilder g = m.build(GraphTarget.CPU_FP32, TransformerSegment.whole(c.numLayers()));
        assertEquals(new TreeSet<>(m.store.names()), new TreeSet<>(g.weightNames()),
                "the whole forward uses every tensor of the snapshot");
        Map<String, Output> out = m.runner.run(g, prologueInputs(x, e, sigma, 1));
        assertEquals(Set.of(VELOCITY), out.keySet());
        assertEquals(N * c.outputDim(), out.get(VELOCITY).values().length);
        assertClose(ref.forward(x, e, sigma, 1, H2, W2, L), out.get(VELOCITY).values(), FP32_TOL,
                "(d) whole(2) velocity, B=1 N=16 L=5");
    }

    @Test
    void wholeForwardOnOddGridAndBatchOfTwo() throws Exception {
        // 3×5 grid: centring differs per axis (rows −2..0, cols −3..1), text starts at max(1, 2) = 2
        int h2 = 3, w2 = 5, n = h2 * w2, textLen = 4, b = 2;
        float[] x = normal(rnd, b * n * c.inChannels());
        float[] e = normal(rnd, b * textLen * c.jointAttentionDim());
        float[] sigma = {0.9f, 0.1f};
        Map<String, Output> out = run(TransformerSegment.whole(c.numLayers()),
                prologueInputs(x, e, sigma, b, h2, w2, textLen));
        assertClose(ref.forward(x, e, sigma, b, h2, w2, textLen), out.get(VELOCITY).values(), FP32_TOL,
                "(d) whole(2) velocity, B=2 3x5 grid L=4");
    }

    @Test
    void paddedBatchOfTwoPromptsEqualsSingleForwards() throws Exception {
        // the first prompt is the shorter: its row is padded with 2 zero tokens, masked by txt_bias
        int[] lengths = {3, 5};
        int longest = 5;
        int joint = c.jointAttentionDim();
        float[][] x = {normal(rnd, N * c.inChannels()), normal(rnd, N * c.inChannels())};
        float[][] e = {normal(rnd, lengths[0] * joint), normal(rnd, lengths[1] * joint)};
        float[] sigma = {0.7f, 0.3f};
        TransformerSegment whole = TransformerSegment.whole(c.numLayers());

        float[] xs = new float[2 * N * c.inChannels()];
        float[] es = new float[2 * longest * joint];
        float[] bias = new float[2 * longest];
        for (int b = 0; b < 2; b++) {
            System.arraycopy(x[b], 0, xs, b * x[b].length, x[b].length);
            System.arraycopy(e[b], 0, es, b * longest * joint, e[b].length);
            java.util.Arrays.fill(bias, b * longest + lengths[b], (b + 1) * longest, Float.NEGATIVE_INFINITY);
        }
        Map<String, Input> in = prologueInputs(xs, es, sigma, 2, H2, W2, longest);
        in.put(QwenImageTransformer.TXT_BIAS, Input.of(bias, 2, 1, 1, longest));
        float[] batched = m.runner.run(new QwenImageTransformer(c, true).build(GraphTarget.CPU_FP32, m.store, whole),
                in).get(VELOCITY).values();

        int each = N * c.outputDim();
        for (int b = 0; b < 2; b++) {
            float[] single = run(whole, prologueInputs(x[b], e[b], new float[] {sigma[b]}, 1, H2, W2, lengths[b]))
                    .get(VELOCITY).values();
            assertClose(d(single), java.util.Arrays.copyOfRange(batched, b * each, (b + 1) * each), SEGMENT_TOL,
                    "padded batch row " + b + " (L=" + lengths[b] + " of " + longest + ") vs its single forward");
        }
    }

    // ---- (e) segmented == monolithic -------------------------------------------------------------------

    @Test
    void segmentedChainsEqualMonolithic() throws Exception {
        float[] x = normal(rnd, N * c.inChannels());
        float[] e = normal(rnd, L * c.jointAttentionDim());
        float[] sigma = {0.45f};
        float[] whole = run(TransformerSegment.whole(2), prologueInputs(x, e, sigma, 1)).get(VELOCITY).values();

        // two segments: prologue+[0,1) -> [1,2)+epilogue
        Map<String, Output> first = run(new TransformerSegment(0, 1, true, false, false),
                prologueInputs(x, e, sigma, 1));
        assertEquals(Set.of(IMG_OUT, TXT_OUT, TEMB_OUT), first.keySet());
        Map<String, Output> second = run(new TransformerSegment(1, 2, false, true, false), chained(first, first));
        assertEquals(Set.of(VELOCITY), second.keySet());
        assertClose(d(whole), second.get(VELOCITY).values(), SEGMENT_TOL,
                "(e) prologue+[0,1) -> [1,2)+epilogue vs whole(2)");

        // three segments: prologue+[0,0) -> [0,1) -> [1,2)+epilogue; block 0 gets its image modulation from the
        // prologue, which holds those weights
        Map<String, Output> s0 = run(new TransformerSegment(0, 0, true, false, false), prologueInputs(x, e, sigma, 1));
        Map<String, Input> s1In = chained(s0, s0);
        s1In.put(IMG_MOD_0, Input.of(s0.get(IMG_MOD_0 + "_out").values(), 1, 1, 6L * dim));
        Map<String, Output> s1 = run(new TransformerSegment(0, 1, false, false, false), s1In);
        Map<String, Output> s2 = run(new TransformerSegment(1, 2, false, true, false), chained(s1, s0));
        assertClose(d(whole), s2.get(VELOCITY).values(), SEGMENT_TOL,
                "(e) prologue+[0,0) -> [0,1) -> [1,2)+epilogue vs whole");

        // and an epilogue-only tail: prologue+[0,2) -> [2,2)+epilogue
        Map<String, Output> body = run(new TransformerSegment(0, 2, true, false, false),
                prologueInputs(x, e, sigma, 1));
        Map<String, Input> tailIn = chained(body, body);
        tailIn.remove(TXT); // the output head does not read the text stream
        Map<String, Output> tail = run(new TransformerSegment(2, 2, false, true, false), tailIn);
        assertClose(d(whole), tail.get(VELOCITY).values(), SEGMENT_TOL,
                "(e) prologue+[0,2) -> [2,2)+epilogue vs whole");
    }

    // ---- (f) modulated_input ---------------------------------------------------------------------------

    @Test
    void modulatedInputIsBlockFromsModulatedImage() throws Exception {
        float[] x = normal(rnd, N * c.inChannels());
        float[] e = normal(rnd, L * c.jointAttentionDim());
        float[] sigma = {0.8f};
        GraphBuilder g = m.build(GraphTarget.CPU_FP32, new TransformerSegment(0, 2, true, true, true));
        Map<String, Output> out = m.runner.run(g, prologueInputs(x, e, sigma, 1));
        assertEquals(Set.of(VELOCITY, MODULATED_INPUT), out.keySet());
        QwenImageReference.State s = ref.prologue(x, e, sigma, 1, N, L);
        QwenImageReference.BlockOut b0 = ref.block(0, s.img(), s.txt(), s.temb(), 1, H2, W2, L);
        assertClose(b0.modulatedImg(), out.get(MODULATED_INPUT).values(), FP32_TOL,
                "(f) modulated_input of block 0");
        assertClose(ref.forward(x, e, sigma, 1, H2, W2, L), out.get(VELOCITY).values(), FP32_TOL,
                "(f) velocity next to modulated_input");

        // a segment starting at block 1 probes block 1
        Map<String, Output> mid = run(new TransformerSegment(1, 2, false, false, true),
                streamInputs(f(b0.img()), f(b0.txt()), f(s.temb()), 1));
        assertEquals(Set.of(IMG_OUT, TXT_OUT, MODULATED_INPUT), mid.keySet());
        QwenImageReference.BlockOut b1 = ref.block(1, d(f(b0.img())), d(f(b0.txt())), d(f(s.temb())), 1, H2, W2, L);
        assertClose(b1.modulatedImg(), mid.get(MODULATED_INPUT).values(), FP32_TOL,
                "(f) modulated_input of block 1");

        // TeaCache's probe: the prologue alone, with block 0's modulated input computed without running block 0
        Map<String, Output> probe = run(new TransformerSegment(0, 0, true, false, true),
                prologueInputs(x, e, sigma, 1));
        assertEquals(Set.of(IMG_OUT, TXT_OUT, TEMB_OUT, IMG_MOD_0 + "_out", MODULATED_INPUT), probe.keySet());
        assertClose(b0.modulatedImg(), probe.get(MODULATED_INPUT).values(), FP32_TOL,
                "(f) probe-only modulated_input");
        assertClose(s.img(), probe.get(IMG_OUT).values(), FP32_TOL, "(f) probe passes the image stream through");
    }

    // ---- graph interface -------------------------------------------------------------------------------

    @Test
    void inputsFollowTheSegmentContract() {
        assertEquals(List.of(HIDDEN_STATES, ENCODER_HIDDEN_STATES, TIMESTEP, "img_cos", "img_sin", "txt_cos",
                "txt_sin"), m.build(GraphTarget.CPU_FP32, TransformerSegment.whole(2)).inputNames());
        assertEquals(List.of(IMG, TXT, TEMB, "img_cos", "img_sin", "txt_cos", "txt_sin"),
                m.build(GraphTarget.CPU_FP32, new TransformerSegment(1, 2, false, true, false)).inputNames());
        IllegalArgumentException tooFar = assertThrows(IllegalArgumentException.class,
                () -> m.build(GraphTarget.CPU_FP32, new TransformerSegment(1, 3, false, true, false)));
        assertTrue(tooFar.getMessage().contains("num_layers"), tooFar.getMessage());
    }

    // ---- fp16 activations ------------------------------------------------------------------------------

    /**
     * CANN_FP16 (fp16 activations, standard ops only, clip after each block) run by the CPU provider: a smoke test of
     * the casts. fp16 rounding (11-bit mantissa) through two blocks leaves errors of order 1e-2 on values of order 1.
     */
    @Test
    void fp16StandardOpsGraphStaysCloseToReference() throws Exception {
        float[] x = normal(rnd, N * c.inChannels());
        float[] e = normal(rnd, L * c.jointAttentionDim());
        float[] sigma = {0.5f};
        Map<String, Output> out = m.runner.run(m.build(GraphTarget.CANN_FP16, TransformerSegment.whole(2)),
                prologueInputs(x, e, sigma, 1));
        assertClose(ref.forward(x, e, sigma, 1, H2, W2, L), out.get(VELOCITY).values(), 5e-2,
                "fp16 (CANN_FP16) whole(2)");
    }
}
