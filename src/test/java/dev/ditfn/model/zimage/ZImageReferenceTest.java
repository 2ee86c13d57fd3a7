package dev.ditfn.model.zimage;

import static dev.ditfn.model.zimage.ZImageReference.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.testing.ReferenceMath;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * Pins the Z-Image reference against hand-worked values (spec Part A, upstream transformer_z_image.py): patch layout,
 * position ids with the 32-padding, RoPE, the timestep sinusoid, the gate/scale algebra of a block, and the forward's
 * shape, determinism and stage composition. Tiny dims: dim 32, 2 heads of 16 = axes [4, 6, 6].
 */
class ZImageReferenceTest {
    private static final Dims TINY = Dims.tiny();
    private static final double EXACT = 1e-12;

    private static double[] ramp(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        return x;
    }

    private static double[][] randomRows(long seed, int rows, int width) {
        Random r = new Random(seed);
        double[][] x = new double[rows][width];
        for (double[] row : x) {
            for (int j = 0; j < width; j++) {
                row[j] = r.nextGaussian();
            }
        }
        return x;
    }

    private static void assertRowsEqual(double[][] expected, double[][] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " rows");
        for (int s = 0; s < expected.length; s++) {
            assertArrayEquals(expected[s], actual[s], tol, what + " row " + s);
        }
    }

    // ---- A3.2 patchify ---------------------------------------------------------------------------------------

    @Test
    void patchFeaturesAreChannelFastest() {
        int c = 3;
        int h = 4;
        int w = 6;
        double[] x = ramp(c * h * w); // X[c, y, x] = (c·4 + y)·6 + x
        double[][] t = patchify(x, c, h, w, 2);
        assertEquals(2 * 3, t.length);
        assertEquals(2 * 2 * 3, t[0].length);
        // token (h=1, w=2) = index 1·3 + 2 = 5; feature (ph=1, pw=0, c=2) = (1·2 + 0)·3 + 2 = 8 = X[2, 3, 4]
        assertEquals((2 * 4 + 3) * 6 + 4, t[5][8]);
        assertEquals(70.0, t[5][8]); // (2·4 + 3)·6 + 4
        // token 0: features (0,0,c0),(0,0,c1),(0,0,c2),(0,1,c0)... = X[0,0,0], X[1,0,0], X[2,0,0], X[0,0,1]
        assertArrayEquals(new double[] {0, 24, 48, 1, 25, 49, 6, 30, 54, 7, 31, 55}, t[0]);
        // every token/feature against the formula feat[(ph·2 + pw)·C + c] = X[c, 2h+ph, 2w+pw]
        for (int th = 0; th < 2; th++) {
            for (int tw = 0; tw < 3; tw++) {
                for (int ph = 0; ph < 2; ph++) {
                    for (int pw = 0; pw < 2; pw++) {
                        for (int ch = 0; ch < c; ch++) {
                            assertEquals(x[(ch * h + 2 * th + ph) * w + 2 * tw + pw],
                                    t[th * 3 + tw][(ph * 2 + pw) * c + ch]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void unpatchifyInvertsPatchifyAndIgnoresExtraRows() {
        double[] x = new Random(3).doubles(4 * 6 * 8).toArray();
        double[][] t = patchify(x, 4, 6, 8, 2);
        assertArrayEquals(x, unpatchify(t, 4, 6, 8, 2));
        double[][] longer = new double[t.length + 5][];
        System.arraycopy(t, 0, longer, 0, t.length);
        for (int i = t.length; i < longer.length; i++) {
            longer[i] = new double[16];
            Arrays.fill(longer[i], 99);
        }
        assertArrayEquals(x, unpatchify(longer, 4, 6, 8, 2));
        assertThrows(IllegalArgumentException.class, () -> patchify(new double[4 * 5 * 8], 4, 5, 8, 2));
    }

    // ---- A3.3 / A3.4 position ids ----------------------------------------------------------------------------

    @Test
    void positionIdsForFiveCaptionTokensAndThreeByTwoImage() {
        assertEquals(32, paddedLength(5));
        assertEquals(32, paddedLength(32));
        assertEquals(64, paddedLength(33));
        int[][] cap = captionPositionIds(5);
        assertEquals(32, cap.length);
        for (int k = 0; k < 32; k++) {
            assertArrayEquals(new int[] {1 + k, 0, 0}, cap[k], "caption row " + k); // pads continue the count
        }
        int[][] img = imagePositionIds(5, 3, 2);
        assertEquals(32, img.length);
        int[][] real = {{33, 0, 0}, {33, 0, 1}, {33, 1, 0}, {33, 1, 1}, {33, 2, 0}, {33, 2, 1}};
        for (int k = 0; k < 6; k++) {
            assertArrayEquals(real[k], img[k], "image row " + k);
        }
        for (int k = 6; k < 32; k++) {
            assertArrayEquals(new int[] {0, 0, 0}, img[k], "image pad row " + k);
        }
        // the padded caption length passed instead gives the same ids; 32 image tokens need no pad
        assertArrayEquals(img, imagePositionIds(32, 3, 2));
        int[][] full = imagePositionIds(40, 4, 8);
        assertEquals(32, full.length);
        assertArrayEquals(new int[] {65, 3, 7}, full[31]);
    }

    // ---- A3.5 RoPE -------------------------------------------------------------------------------------------

    @Test
    void ropeRotatesAdjacentPairsByPerAxisAngles() {
        // head dim 8 = axes [2, 2, 4], theta 256: ω = 1 (axis 0), 1 (axis 1), 1 and 256^(−2/4) = 1/16 (axis 2)
        Dims d = new Dims(4, 2, 16, 2, 1, 1, 8, 1e-5, 256, 1000, new int[] {2, 2, 4}, new int[] {8, 8, 8});
        int[] ids = {3, 1, 2};
        assertArrayEquals(new double[] {3, 1, 2, 0.125}, ropeAngles(d, ids), EXACT);
        double[] head = {1, 0, 0, 1, 1, 1, 2, 0};
        double[] expected = {
            Math.cos(3), Math.sin(3), // (1 + 0i)·e^{3i}
            -Math.sin(1), Math.cos(1), // (0 + 1i)·e^{1i}
            Math.cos(2) - Math.sin(2), Math.sin(2) + Math.cos(2), // (1 + 1i)·e^{2i}
            2 * Math.cos(0.125), 2 * Math.sin(0.125)}; // (2 + 0i)·e^{0.125i}
        double[][] out = rope(d, ids, new double[][] {head, head});
        assertArrayEquals(expected, out[0], EXACT);
        assertArrayEquals(expected, out[1], EXACT, "every head gets the same angles");
        // the sequence form on [S][heads·headDim] agrees
        double[] both = new double[16];
        System.arraycopy(head, 0, both, 0, 8);
        System.arraycopy(head, 0, both, 8, 8);
        double[][] seq = rope(d, new int[][] {{0, 0, 0}, ids}, new double[][] {both, both});
        assertArrayEquals(both, seq[0], EXACT, "position (0,0,0) is the identity");
        assertArrayEquals(expected, Arrays.copyOfRange(seq[1], 8, 16), EXACT);
        assertThrows(IllegalArgumentException.class, () -> ropeAngles(d, new int[] {8, 0, 0}));
    }

    @Test
    void ropeAnglesAreCastToFloat32() {
        // tiny axis 1 (d = 6), j = 1: ω = 256^(−1/3) in float64, angle = fp32(31·ω) as upstream's .float()
        double omega = 1.0 / Math.pow(256, 2.0 / 6);
        double exact = 31 * omega;
        double[] a = ropeAngles(TINY, new int[] {0, 31, 0});
        assertEquals((double) (float) exact, a[2 + 1]);
        assertNotEquals(exact, a[2 + 1]);
        assertEquals(0.0, a[0]);
    }

    // ---- A3.1 timestep ---------------------------------------------------------------------------------------

    @Test
    void timestepSinusoidIsCosFirst() {
        double[] zero = timestepSinusoid(0, 1000);
        assertEquals(256, zero.length);
        for (int i = 0; i < 128; i++) {
            assertEquals(1.0, zero[i], "cos part " + i);
            assertEquals(0.0, zero[128 + i], "sin part " + i);
        }
        // t = 0.001 → u = fp32(0.001f·1000) = 1; f_0 = 1, f_64 = 10000^(−1/2) = 0.01, f_127 = 10000^(−127/128)
        double[] e = timestepSinusoid(0.001, 1000);
        assertEquals(Math.cos(1), e[0], 1e-7);
        assertEquals(Math.sin(1), e[128], 1e-7);
        assertEquals(Math.cos(0.01), e[64], 1e-7);
        assertEquals(Math.sin(0.01), e[128 + 64], 1e-7);
        assertEquals(Math.sin(Math.pow(10000, -127.0 / 128)), e[255], 1e-7);
    }

    @Test
    void timestepEmbeddingIsMlpOfSinusoid() {
        Map<String, double[]> w = randomWeights(TINY, 1);
        double[] c = timestepEmbedding(TINY, 0, lookup(w));
        assertEquals(32, c.length);
        double[] e = new double[256];
        Arrays.fill(e, 0, 128, 1.0);
        double[] h = ReferenceMath.map(ReferenceMath.linear(e, w.get("t_embedder.mlp.0.weight"),
                w.get("t_embedder.mlp.0.bias"), 1, 256, 1024), ReferenceMath::silu);
        double[] expected = ReferenceMath.linear(h, w.get("t_embedder.mlp.2.weight"), w.get("t_embedder.mlp.2.bias"),
                1, 1024, 32);
        assertArrayEquals(expected, c, EXACT);
        assertFalse(Arrays.equals(c, timestepEmbedding(TINY, 0.5, lookup(w))));
    }

    // ---- dims and weights ------------------------------------------------------------------------------------

    @Test
    void dimsFollowUpstreamExpressions() {
        Dims turbo = Dims.zImageTurbo();
        assertEquals(128, turbo.headDim());
        assertEquals(10240, turbo.ffnHidden());
        assertEquals(256, turbo.adaLnDim());
        assertEquals(64, turbo.patchDim());
        assertEquals(521, shapes(turbo).size());
        assertArrayEquals(new int[] {15360, 256}, shapes(turbo).get("layers.29.adaLN_modulation.0.weight"));
        assertArrayEquals(new int[] {64, 3840}, shapes(turbo).get("all_final_layer.2-1.linear.weight"));
        assertFalse(shapes(turbo).containsKey("context_refiner.0.adaLN_modulation.0.weight"));
        assertEquals(85, TINY.ffnHidden()); // int(32 / 3 * 8) = int(85.33)
        assertEquals(32, TINY.adaLnDim());
        assertThrows(IllegalArgumentException.class, () -> new Dims(4, 2, 32, 2, 1, 1, 8, 1e-5, 256, 1000,
                new int[] {4, 6, 4}, new int[] {8, 8, 8}));
    }

    // ---- A3.6 / A3.7 block -----------------------------------------------------------------------------------

    private static final String P = "layers.0";

    private static Map<String, double[]> withAdaLn(Map<String, double[]> base, double sMsa, double gMsa, double sMlp,
            double gMlp) {
        Map<String, double[]> w = new HashMap<>(base);
        int dim = TINY.dim();
        w.put(P + ".adaLN_modulation.0.weight", new double[4 * dim * TINY.adaLnDim()]);
        double[] b = new double[4 * dim];
        for (int j = 0; j < dim; j++) {
            b[j] = sMsa;
            b[dim + j] = gMsa;
            b[2 * dim + j] = sMlp;
            b[3 * dim + j] = gMlp;
        }
        w.put(P + ".adaLN_modulation.0.bias", b);
        return w;
    }

    @Test
    void zeroModulationGivesZeroGatesAndTheIdentity() {
        Map<String, double[]> base = randomWeights(TINY, 2);
        double[][] x = randomRows(5, 32, TINY.dim());
        int[][] ids = imagePositionIds(5, 4, 8);
        double[] c = randomRows(6, 1, TINY.adaLnDim())[0];
        Function<String, double[]> w = lookup(withAdaLn(base, 0, 0, 0, 0));
        assertRowsEqual(x, block(TINY, P, x, ids, c, w), 0, "tanh(0) gates");
        // scale chunks −1 make 1 + scale = 0: both sub-layers see zeros and add nothing, whatever the gates
        w = lookup(withAdaLn(base, -1, 2, -1, 3));
        assertRowsEqual(x, block(TINY, P, x, ids, c, w), 0, "1 + (−1) scales");
        // with random modulation the block does change x
        double[][] moved = block(TINY, P, x, ids, c, lookup(base));
        assertFalse(Arrays.equals(x[0], moved[0]));
    }

    @Test
    void gatesPassThroughTanhAndChunksAreScaleGateScaleGate() {
        Map<String, double[]> base = randomWeights(TINY, 2);
        double[][] x = randomRows(5, 32, TINY.dim());
        int[][] ids = imagePositionIds(5, 4, 8);
        double[] c = new double[TINY.adaLnDim()];
        // FFN off (scale_mlp = −1): out − x = tanh(g_msa)·A with A independent of g_msa
        double[][] a = block(TINY, P, x, ids, c, lookup(withAdaLn(base, 0.3, 0.5, -1, 1)));
        double[][] b = block(TINY, P, x, ids, c, lookup(withAdaLn(base, 0.3, -2, -1, 1)));
        // attention off (scale_msa = −1): out − x = tanh(g_mlp)·F
        double[][] f1 = block(TINY, P, x, ids, c, lookup(withAdaLn(base, -1, 1, 0.2, 0.7)));
        double[][] f2 = block(TINY, P, x, ids, c, lookup(withAdaLn(base, -1, 1, 0.2, 1.5)));
        boolean nonzero = false;
        for (int s = 0; s < x.length; s++) {
            for (int j = 0; j < TINY.dim(); j++) {
                double da = (a[s][j] - x[s][j]) / Math.tanh(0.5);
                assertEquals(da, (b[s][j] - x[s][j]) / Math.tanh(-2), 1e-12, "attention gate");
                double df = (f1[s][j] - x[s][j]) / Math.tanh(0.7);
                assertEquals(df, (f2[s][j] - x[s][j]) / Math.tanh(1.5), 1e-12, "ffn gate");
                nonzero |= Math.abs(da) > 1e-3 && Math.abs(df) > 1e-3;
            }
        }
        assertTrue(nonzero);
    }

    @Test
    void attentionBlockIsTheHandWrittenSandwich() {
        // modulation (1 + s, tanh g) on the FFN off; the attention branch recomputed from the pieces
        Map<String, double[]> wm = withAdaLn(randomWeights(TINY, 4), 0.25, 0.8, -1, 0);
        Function<String, double[]> w = lookup(wm);
        double[][] x = randomRows(7, 32, TINY.dim());
        int[][] ids = captionPositionIds(20);
        double[] c = new double[TINY.adaLnDim()];
        int dim = TINY.dim();
        double[] n1 = ReferenceMath.rmsNorm(ReferenceMath.flatten(x), 32, dim, wm.get(P + ".attention_norm1.weight"),
                1e-5);
        for (int i = 0; i < n1.length; i++) {
            n1[i] *= 1.25;
        }
        double[][] attn = attention(TINY, P, ReferenceMath.unflatten(n1, dim), ids, w);
        double[] n2 = ReferenceMath.rmsNorm(ReferenceMath.flatten(attn), 32, dim,
                wm.get(P + ".attention_norm2.weight"), 1e-5);
        double[][] out = block(TINY, P, x, ids, c, w);
        for (int s = 0; s < 32; s++) {
            for (int j = 0; j < dim; j++) {
                assertEquals(x[s][j] + Math.tanh(0.8) * n2[s * dim + j], out[s][j], 1e-12);
            }
        }
    }

    @Test
    void singleTokenAttentionIsOutOfValue() {
        // one key: softmax = 1, so attention = to_out(to_v(y)) whatever q, k, norms and RoPE do (v is not rotated)
        Map<String, double[]> wm = randomWeights(TINY, 8);
        double[][] y = randomRows(9, 1, TINY.dim());
        double[][] out = attention(TINY, P, y, new int[][] {{7, 3, 5}}, lookup(wm));
        double[] v = ReferenceMath.linear(y[0], wm.get(P + ".attention.to_v.weight"), null, 1, 32, 32);
        double[] expected = ReferenceMath.linear(v, wm.get(P + ".attention.to_out.0.weight"), null, 1, 32, 32);
        assertArrayEquals(expected, out[0], 1e-12);
    }

    @Test
    void blockIsPermutationEquivariantSoThereIsNoMask() {
        Map<String, double[]> wm = randomWeights(TINY, 10);
        Function<String, double[]> w = lookup(wm);
        double[][] x = randomRows(11, 32, TINY.dim());
        int[][] ids = imagePositionIds(3, 3, 3); // 9 real + 23 pads at (0,0,0)
        double[] c = randomRows(12, 1, TINY.adaLnDim())[0];
        double[][] out = block(TINY, P, x, ids, c, w);
        double[][] px = new double[32][];
        int[][] pids = new int[32][];
        for (int s = 0; s < 32; s++) {
            px[s] = x[31 - s];
            pids[s] = ids[31 - s];
        }
        double[][] pout = block(TINY, P, px, pids, c, w);
        for (int s = 0; s < 32; s++) {
            assertArrayEquals(out[31 - s], pout[s], 1e-12, "row " + s);
        }
    }

    @Test
    void contextRefinerWithZeroPostNormsIsTheIdentity() {
        Map<String, double[]> wm = new HashMap<>(randomWeights(TINY, 13));
        wm.put("context_refiner.0.attention_norm2.weight", new double[32]);
        wm.put("context_refiner.0.ffn_norm2.weight", new double[32]);
        double[][] x = randomRows(14, 32, TINY.dim());
        int[][] ids = captionPositionIds(9);
        assertRowsEqual(x, block(TINY, "context_refiner.0", x, ids, null, lookup(wm)),
                0, "unmodulated block");
    }

    // ---- A3.8 forward ----------------------------------------------------------------------------------------

    @Test
    void forwardShapeDeterminismAndStages() {
        Map<String, double[]> wm = randomWeights(TINY, 21);
        Function<String, double[]> w = lookup(wm);
        int h = 6;
        int wd = 4; // 3 × 2 tokens → 6 real + 26 pads
        double[] latent = new Random(22).doubles(4 * h * wd, -1, 1).toArray();
        double[][] cap = randomRows(23, 5, TINY.capFeatDim()); // 5 → 32
        double[] out = forward(TINY, latent, h, wd, 0.3, cap, w);
        assertEquals(4 * h * wd, out.length);
        for (double v : out) {
            assertTrue(Double.isFinite(v) && Math.abs(v) < 100, "O(1) output, got " + v);
        }
        assertArrayEquals(out, forward(TINY, latent, h, wd, 0.3, cap, w));

        Prologue p = prologue(TINY, latent, h, wd, 0.3, cap, w);
        assertEquals(6, p.nImg());
        assertEquals(32, p.nx());
        assertEquals(5, p.capLen());
        assertEquals(32, p.lc());
        assertEquals(64, p.x().length);
        assertEquals(64, p.ids().length);
        assertArrayEquals(new int[] {33, 2, 1}, p.ids()[5]);
        assertArrayEquals(new int[] {0, 0, 0}, p.ids()[6]);
        assertArrayEquals(new int[] {1, 0, 0}, p.ids()[32]);
        assertArrayEquals(new int[] {32, 0, 0}, p.ids()[63]);
        assertArrayEquals(timestepEmbedding(TINY, 0.3, w), p.c());
        double[][] z = finalLayer(TINY, mainLayers(TINY, p.x(), p.ids(), p.c(), w), p.c(), w);
        assertEquals(64, z.length);
        assertEquals(16, z[0].length);
        assertArrayEquals(out, unpatchify(z, 4, h, wd, 2));

        // the prologue's halves are the refiners on the embedded sequences
        double[][] x0 = embedImage(TINY, latent, h, wd, w);
        assertArrayEquals(wm.get("x_pad_token"), x0[6]);
        assertArrayEquals(wm.get("x_pad_token"), x0[31]);
        double[][] xr = block(TINY, "noise_refiner.0", x0, imagePositionIds(5, 3, 2), p.c(), w);
        double[][] y0 = embedCaption(TINY, cap, w);
        assertArrayEquals(wm.get("cap_pad_token"), y0[5]);
        double[][] yr = block(TINY, "context_refiner.0", y0, captionPositionIds(5), null, w);
        for (int s = 0; s < 32; s++) {
            assertArrayEquals(xr[s], p.x()[s], 0);
            assertArrayEquals(yr[s], p.x()[32 + s], 0);
        }

        // t, latent and caption all reach the output; pad tokens take part in attention (no pad mask)
        assertFalse(Arrays.equals(out, forward(TINY, latent, h, wd, 0.7, cap, w)));
        Map<String, double[]> otherPad = new HashMap<>(wm);
        otherPad.put("cap_pad_token", new Random(24).doubles(32).toArray());
        assertFalse(Arrays.equals(out,
                forward(TINY, latent, h, wd, 0.3, cap, lookup(otherPad))));
    }

    @Test
    void finalLayerIsLayerNormTimesOnePlusScaleThenLinear() {
        Map<String, double[]> wm = new HashMap<>(randomWeights(TINY, 30));
        // zero adaLN Linear: scale = 1 + 0 → plain linear(LayerNorm(x))
        wm.put("all_final_layer.2-1.adaLN_modulation.1.weight", new double[32 * 32]);
        wm.put("all_final_layer.2-1.adaLN_modulation.1.bias", new double[32]);
        double[][] x = randomRows(31, 3, 32);
        double[] c = randomRows(32, 1, 32)[0];
        double[][] z = finalLayer(TINY, x, c, lookup(wm));
        double[] ln = ReferenceMath.layerNorm(ReferenceMath.flatten(x), 3, 32, null, null, 1e-6);
        double[] expected = ReferenceMath.linear(ln, wm.get("all_final_layer.2-1.linear.weight"),
                wm.get("all_final_layer.2-1.linear.bias"), 3, 32, 16);
        assertArrayEquals(expected, ReferenceMath.flatten(z), 1e-12);
        // bias −1 → scale 0 → output = linear bias on every row
        double[] minus = new double[32];
        Arrays.fill(minus, -1);
        wm.put("all_final_layer.2-1.adaLN_modulation.1.bias", minus);
        z = finalLayer(TINY, x, c, lookup(wm));
        for (double[] row : z) {
            assertArrayEquals(wm.get("all_final_layer.2-1.linear.bias"), row, 1e-12);
        }
    }
}
