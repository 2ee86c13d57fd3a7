package dev.ditfn.model.autoencoderkl;

import static dev.ditfn.testing.AssertClose.assertClose;
import static dev.ditfn.testing.ReferenceMath.d;
import static dev.ditfn.testing.TestData.roundTo;
import static dev.ditfn.testing.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.autoencoderkl.AutoencoderKlReference.Img;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.testing.GraphRunner;
import dev.ditfn.testing.GraphRunner.Input;
import dev.ditfn.testing.GraphRunner.Output;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** The whole TINY {@link AutoencoderKlEncoder} graph against {@link AutoencoderKlReference}. */
class AutoencoderKlEncoderTest {
    /** As the decoder test: fp32 rounding through ~20 convs, an attention and GroupNorms; 1e-4·(1+|ref|). */
    static final double FP32_TOL = 1e-4;
    /** fp16 activations and weights, norm statistics in fp32 (see the decoder test). */
    static final double FP16_TOL = 2e-2;

    @RegisterExtension
    final GraphRunner r = GraphRunner.temporary("diffusion_pytorch_model.safetensors");

    private void encodeAndCompare(AutoencoderKlConfig config, GraphTarget target, DType weights, int b, int h, int w,
            double tol) throws Exception {
        r.random(weights, 43, config::writeRandomWeights);
        int c = config.inChannels();
        int l = config.latentChannels();
        int s = config.scaleFactor();
        float[] image = roundTo(target.activationType(), uniform(new Random(10), b * c * h * w, -1f, 1f));
        GraphBuilder g = new AutoencoderKlEncoder(config).build(target, r.store());
        Map<String, Output> out = r.run(g, Map.of(AutoencoderKlEncoder.INPUT, Input.of(image, b, c, h, w)));
        long[] latentShape = {b, l, h / s, w / s};
        Output mean = out.get(AutoencoderKlEncoder.MEAN);
        Output logvar = out.get(AutoencoderKlEncoder.LOGVAR);
        assertArrayEquals(latentShape, mean.shape());
        assertArrayEquals(latentShape, logvar.shape());

        Img moments = new AutoencoderKlReference(r.store(), config.normNumGroups())
                .encodeMoments(config, new Img(d(image), b, c, h, w));
        int half = l * (h / s) * (w / s);
        double[] expMean = new double[b * half];
        double[] expLogvar = new double[b * half];
        for (int n = 0; n < b; n++) {
            System.arraycopy(moments.v(), 2 * n * half, expMean, n * half, half);
            System.arraycopy(moments.v(), (2 * n + 1) * half, expLogvar, n * half, half);
        }
        expLogvar = Arrays.stream(expLogvar).map(v -> Math.max(-30, Math.min(20, v))).toArray();
        String what = "encoder " + config + " " + target + " weights " + weights + " image [" + b + "," + c + "," + h
                + "," + w + "]";
        assertClose(expMean, mean.values(), tol, what + " mean");
        assertClose(expLogvar, logvar.values(), tol, what + " logvar");
    }

    @Test
    void tinyEncoderMatchesReference() throws Exception {
        encodeAndCompare(AutoencoderKlConfig.TINY, GraphTarget.CPU_FP32, DType.FLOAT32, 1, 32, 48, FP32_TOL);
    }

    @Test
    void batchedWithBf16Weights() throws Exception {
        encodeAndCompare(AutoencoderKlConfig.TINY, GraphTarget.CPU_FP32, DType.BFLOAT16, 2, 16, 24, FP32_TOL);
    }

    @Test
    void fp16Graph() throws Exception {
        encodeAndCompare(AutoencoderKlConfig.TINY, GraphTarget.CANN_FP16, DType.FLOAT16, 1, 32, 48, FP16_TOL);
    }

    @Test
    void quantConvAndTwoBlocks() throws Exception {
        ObjectNode json = AutoencoderKlConfig.TINY.toJson();
        json.put("use_quant_conv", true).put("latent_channels", 4);
        json.putArray("block_out_channels").add(16).add(32);
        json.putArray("down_block_types").add("DownEncoderBlock2D").add("DownEncoderBlock2D");
        json.putArray("up_block_types").add("UpDecoderBlock2D").add("UpDecoderBlock2D");
        encodeAndCompare(AutoencoderKlConfig.fromJson(json), GraphTarget.CPU_FP32, DType.FLOAT32, 1, 6, 10, FP32_TOL);
    }

    @Test
    void graphDeclaresEveryEncoderTensor() {
        AutoencoderKlConfig tiny = AutoencoderKlConfig.TINY;
        r.random(DType.FLOAT32, 1, tiny::writeRandomWeights);
        GraphBuilder g = new AutoencoderKlEncoder(tiny).build(GraphTarget.CPU_FP32, r.store());
        assertEquals(tiny.encoderTensorShapes().keySet().stream().sorted().toList(),
                g.weightNames().stream().sorted().toList());
        assertEquals(List.of(AutoencoderKlEncoder.INPUT), g.inputNames());
    }
}
