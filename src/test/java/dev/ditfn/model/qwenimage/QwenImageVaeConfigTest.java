package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.DownBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.DownLayer;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.UpBlock;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig.Upsample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** (h) config.json parsing and validation, and the decoder layout the config implies (spec §3.2, §6). */
class QwenImageVaeConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** vae/config.json of Qwen/Qwen-Image (values of spec §1; an unknown key such as _diffusers_version is ignored). */
    private static final String PUBLISHED = """
            {"_class_name": "AutoencoderKLQwenImage", "_diffusers_version": "0.34.0.dev0",
             "attn_scales": [], "base_dim": 96, "dim_mult": [1, 2, 4, 4], "dropout": 0.0,
             "latents_mean": [-0.7571,-0.7089,-0.9113,0.1075,-0.1745,0.9653,-0.1517,1.5508,0.4134,-0.0715,0.5517,-0.3632,-0.1922,-0.9497,0.2503,-0.2921],
             "latents_std": [2.8184,1.4541,2.3275,2.6558,1.2196,1.7708,2.6052,2.0743,3.2687,2.1526,2.8652,1.5579,1.6382,1.1253,2.8251,1.9160],
             "num_res_blocks": 2, "temperal_downsample": [false, true, true], "z_dim": 16}
            """;

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    // ---- parsing ---------------------------------------------------------------------------------------

    @Test
    void publishedConfigParsesToThePreset() throws Exception {
        QwenImageVaeConfig c = QwenImageVaeConfig.fromJson(json(PUBLISHED));
        assertEquals(QwenImageVaeConfig.QWEN_IMAGE, c);
        assertEquals(8, c.scaleFactor());
        assertEquals(-0.7571f, c.latentsMean()[0]);
        assertEquals(1.9160f, c.latentsStd()[15]);
    }

    @Test
    void absentKeysTakeTheDiffusersDefaults() throws Exception {
        assertEquals(QwenImageVaeConfig.QWEN_IMAGE, QwenImageVaeConfig.fromJson(json("{}")));
    }

    @Test
    void toJsonRoundTripsWithDiffusersKeys() throws Exception {
        ObjectNode o = QwenImageVaeConfig.TINY.toJson();
        assertEquals("AutoencoderKLQwenImage", o.get("_class_name").asText());
        for (String key : List.of("base_dim", "z_dim", "dim_mult", "num_res_blocks", "attn_scales",
                "temperal_downsample", "dropout", "input_channels", "latents_mean", "latents_std")) {
            assertTrue(o.has(key), key);
        }
        assertEquals(16, o.get("base_dim").asInt());
        assertEquals("[false,true,true]", o.get("temperal_downsample").toString());
        // through text, as a snapshot writer would store it
        JsonNode back = json(JSON.writeValueAsString(o));
        assertEquals(QwenImageVaeConfig.TINY, QwenImageVaeConfig.fromJson(back));
        assertEquals(QwenImageVaeConfig.QWEN_IMAGE,
                QwenImageVaeConfig.fromJson(json(JSON.writeValueAsString(QwenImageVaeConfig.QWEN_IMAGE.toJson()))));
    }

    @Test
    void arraysAreCopied() {
        int[] dm = QwenImageVaeConfig.TINY.dimMult();
        dm[0] = 99;
        assertEquals(1, QwenImageVaeConfig.TINY.dimMult()[0]);
    }

    // ---- validation ------------------------------------------------------------------------------------

    /** Each case: a change to the published config; words the message must contain, separated by '|'. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "\"latents_mean\": [0.0, 1.0]                 ; latents_mean | z_dim = 16 | got 2",
        "\"latents_std\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0] ; latents_std[15] | > 0",
        "\"z_dim\": 4                                  ; latents_mean | z_dim = 4",
        "\"temperal_downsample\": [false, true]        ; temperal_downsample | len(dim_mult) - 1 = 3 | got 2",
        "\"temperal_downsample\": [0, 1, 1]            ; temperal_downsample | booleans",
        "\"dim_mult\": []                              ; dim_mult | non-empty",
        "\"dim_mult\": [1, 0, 4, 4]                    ; dim_mult entries must be >= 1",
        "\"dim_mult\": \"1,2,4,4\"                     ; dim_mult | list of integers",
        "\"base_dim\": 0                               ; base_dim must be >= 1",
        "\"base_dim\": 9.5                             ; base_dim = 9.5 must be an integer",
        "\"z_dim\": \"16\"                             ; z_dim = \"16\" must be an integer",
        "\"num_res_blocks\": -1                        ; num_res_blocks",
        "\"attn_scales\": {}                           ; attn_scales",
        "\"input_channels\": 4                         ; input_channels = 4 must be 3",
        "\"input_channels\": 3.0                       ; input_channels = 3.0 must be an integer",
        "\"latents_std\": \"1\"                        ; latents_std = \"1\" must be a list of numbers",
        "\"latents_mean\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,null] ; latents_mean | must be a list of numbers",
        "\"num_res_blocks\": true                      ; num_res_blocks = true must be an integer",
        "\"_class_name\": 5                             ; _class_name = 5 must be a string",
        "\"_class_name\": \"AutoencoderKLWan\"         ; _class_name | AutoencoderKLWan | AutoencoderKLQwenImage",
    })
    void invalidConfigNamesTheKey(String change, String words) throws Exception {
        ObjectNode config = (ObjectNode) json(PUBLISHED);
        config.setAll((ObjectNode) json("{" + change + "}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QwenImageVaeConfig.fromJson(config));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("invalid vae config.json: "), msg);
        for (String w : words.split("\\|")) {
            assertTrue(msg.contains(w.trim()), "'" + w.trim() + "' in: " + msg);
        }
    }

    @Test
    void notAnObject() {
        assertThrows(IllegalArgumentException.class, () -> QwenImageVaeConfig.fromJson(JSON.createArrayNode()));
    }

    // ---- layout ----------------------------------------------------------------------------------------

    @Test
    void realDecoderLayoutMatchesSpecTable() {
        QwenImageVaeConfig c = QwenImageVaeConfig.QWEN_IMAGE;
        assertArrayEquals(new int[] {384, 384, 384, 192, 96}, c.decoderDims());
        assertEquals(List.of(new UpBlock(0, 384, 384, 3, Upsample.UPSAMPLE_3D),
                new UpBlock(1, 192, 384, 3, Upsample.UPSAMPLE_3D),
                new UpBlock(2, 192, 192, 3, Upsample.UPSAMPLE_2D),
                new UpBlock(3, 96, 96, 3, Upsample.NONE)), c.decoderUpBlocks());

        Map<String, long[]> t = c.decoderTensorShapes();
        Map<String, long[]> table = new LinkedHashMap<>();
        table.put("post_quant_conv.weight", new long[] {16, 16, 1, 1, 1});
        table.put("decoder.conv_in.weight", new long[] {384, 16, 3, 3, 3});
        table.put("decoder.mid_block.resnets.0.norm1.gamma", new long[] {384, 1, 1, 1});
        table.put("decoder.mid_block.attentions.0.norm.gamma", new long[] {384, 1, 1});
        table.put("decoder.mid_block.attentions.0.to_qkv.weight", new long[] {1152, 384, 1, 1});
        table.put("decoder.mid_block.attentions.0.proj.weight", new long[] {384, 384, 1, 1});
        table.put("decoder.up_blocks.1.resnets.0.conv1.weight", new long[] {384, 192, 3, 3, 3});
        table.put("decoder.up_blocks.1.resnets.0.conv_shortcut.weight", new long[] {384, 192, 1, 1, 1});
        table.put("decoder.up_blocks.0.upsamplers.0.resample.1.weight", new long[] {192, 384, 3, 3});
        table.put("decoder.up_blocks.1.upsamplers.0.time_conv.weight", new long[] {768, 384, 3, 1, 1});
        table.put("decoder.up_blocks.2.upsamplers.0.resample.1.weight", new long[] {96, 192, 3, 3});
        table.put("decoder.up_blocks.3.resnets.2.conv2.weight", new long[] {96, 96, 3, 3, 3});
        table.put("decoder.norm_out.gamma", new long[] {96, 1, 1, 1});
        table.put("decoder.conv_out.weight", new long[] {3, 96, 3, 3, 3});
        table.put("decoder.conv_out.bias", new long[] {3});
        table.forEach((name, shape) -> assertArrayEquals(shape, t.get(name), name));
        assertEquals(2, t.keySet().stream().filter(n -> n.contains("conv_shortcut")).count(),
                "only up_blocks.1.resnets.0 has a shortcut");
        assertEquals(108, t.size());
    }

    /**
     * Decoder tensors from the config plus the encoder of spec §3.3 written out by hand must give the spec's totals
     * for the whole VAE: 194 tensors, 126,892,531 parameters; and be exactly the config's own list of the whole VAE.
     */
    @Test
    void decoderPlusSpecEncoderGivesWholeVaeTotals() {
        Map<String, long[]> all = new LinkedHashMap<>(QwenImageVaeConfig.QWEN_IMAGE.decoderTensorShapes());
        conv(all, "encoder.conv_in", 3, 96, 3, 3, 3);
        int[][] res = {{0, 96, 96}, {1, 96, 96}, {3, 96, 192}, {4, 192, 192}, {6, 192, 384}, {7, 384, 384},
            {9, 384, 384}, {10, 384, 384}};
        for (int[] r : res) {
            residual(all, "encoder.down_blocks." + r[0], r[1], r[2]);
        }
        conv(all, "encoder.down_blocks.2.resample.1", 96, 96, 3, 3);
        conv(all, "encoder.down_blocks.5.resample.1", 192, 192, 3, 3);
        conv(all, "encoder.down_blocks.5.time_conv", 192, 192, 3, 1, 1);
        conv(all, "encoder.down_blocks.8.resample.1", 384, 384, 3, 3);
        conv(all, "encoder.down_blocks.8.time_conv", 384, 384, 3, 1, 1);
        residual(all, "encoder.mid_block.resnets.0", 384, 384);
        all.put("encoder.mid_block.attentions.0.norm.gamma", new long[] {384, 1, 1});
        conv(all, "encoder.mid_block.attentions.0.to_qkv", 384, 1152, 1, 1);
        conv(all, "encoder.mid_block.attentions.0.proj", 384, 384, 1, 1);
        residual(all, "encoder.mid_block.resnets.1", 384, 384);
        all.put("encoder.norm_out.gamma", new long[] {384, 1, 1, 1});
        conv(all, "encoder.conv_out", 384, 32, 3, 3, 3);
        conv(all, "quant_conv", 32, 32, 1, 1, 1);
        long params = 0;
        for (long[] s : all.values()) {
            long n = 1;
            for (long d : s) {
                n *= d;
            }
            params += n;
        }
        assertEquals(194, all.size());
        assertEquals(126_892_531L, params);
        Map<String, long[]> whole = QwenImageVaeConfig.QWEN_IMAGE.tensorShapes();
        assertEquals(new java.util.TreeSet<>(all.keySet()), new java.util.TreeSet<>(whole.keySet()));
        all.forEach((name, shape) -> assertArrayEquals(shape, whole.get(name), name));
    }

    /** {@code attn_scales} puts an attention block after each residual block of the stages at those scales. */
    @Test
    void encoderAttentionFollowsAttnScales() throws Exception {
        QwenImageVaeConfig c = QwenImageVaeConfig.fromJson(json("""
                {"base_dim": 16, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 1,
                 "attn_scales": [1.0, 0.5]}
                """));
        Map<String, long[]> t = c.encoderTensorShapes();
        // 0 Res(16), 1 Attn(16), 2 downsample2d, 3 Res(16->32), 4 Attn(32), 5 downsample3d, 6 Res(32->64), ...
        assertArrayEquals(new long[] {48, 16, 1, 1}, t.get("encoder.down_blocks.1.to_qkv.weight"));
        assertArrayEquals(new long[] {16, 16, 3, 3}, t.get("encoder.down_blocks.2.resample.1.weight"));
        assertArrayEquals(new long[] {96, 32, 1, 1}, t.get("encoder.down_blocks.4.to_qkv.weight"));
        assertArrayEquals(new long[] {32, 32, 3, 1, 1}, t.get("encoder.down_blocks.5.time_conv.weight"));
        assertArrayEquals(new long[] {64, 32, 3, 3, 3}, t.get("encoder.down_blocks.6.conv1.weight"));
        assertEquals(3, t.keySet().stream().filter(n -> n.endsWith(".to_qkv.weight")).count(),
                "two stage attentions plus the mid block's");
    }

    private static void conv(Map<String, long[]> t, String prefix, long in, long out, long... kernel) {
        long[] w = new long[2 + kernel.length];
        w[0] = out;
        w[1] = in;
        System.arraycopy(kernel, 0, w, 2, kernel.length);
        t.put(prefix + ".weight", w);
        t.put(prefix + ".bias", new long[] {out});
    }

    private static void residual(Map<String, long[]> t, String p, long in, long out) {
        t.put(p + ".norm1.gamma", new long[] {in, 1, 1, 1});
        conv(t, p + ".conv1", in, out, 3, 3, 3);
        t.put(p + ".norm2.gamma", new long[] {out, 1, 1, 1});
        conv(t, p + ".conv2", out, out, 3, 3, 3);
        if (in != out) {
            conv(t, p + ".conv_shortcut", in, out, 1, 1, 1);
        }
    }

    @Test
    void tinyPresetHasTheRealTopology() {
        QwenImageVaeConfig c = QwenImageVaeConfig.TINY;
        assertEquals(8, c.scaleFactor());
        assertArrayEquals(new int[] {64, 64, 64, 32, 16}, c.decoderDims());
        assertEquals(List.of(new UpBlock(0, 64, 64, 2, Upsample.UPSAMPLE_3D),
                new UpBlock(1, 32, 64, 2, Upsample.UPSAMPLE_3D),
                new UpBlock(2, 32, 32, 2, Upsample.UPSAMPLE_2D),
                new UpBlock(3, 16, 16, 2, Upsample.NONE)), c.decoderUpBlocks());
        assertArrayEquals(QwenImageVaeConfig.QWEN_IMAGE_LATENTS_MEAN, c.latentsMean());
        assertArrayEquals(QwenImageVaeConfig.QWEN_IMAGE_LATENTS_STD, c.latentsStd());
    }

    @Test
    void diffusersTestConfigHasScaleFactorFour() throws Exception {
        // spec §6 reference tiny config (diffusers pipeline test)
        QwenImageVaeConfig c = QwenImageVaeConfig.fromJson(json("""
                {"base_dim": 24, "z_dim": 4, "dim_mult": [1, 2, 4], "num_res_blocks": 1,
                 "temperal_downsample": [false, true], "latents_mean": [0, 0, 0, 0], "latents_std": [1, 1, 1, 1]}
                """));
        assertEquals(4, c.scaleFactor());
        assertArrayEquals(new int[] {96, 96, 48, 24}, c.decoderDims());
        assertEquals(List.of(new UpBlock(0, 96, 96, 2, Upsample.UPSAMPLE_3D),
                new UpBlock(1, 48, 48, 2, Upsample.UPSAMPLE_2D),
                new UpBlock(2, 24, 24, 2, Upsample.NONE)), c.decoderUpBlocks());
    }

    /** The published encoder's flat down_blocks list, as spec B2's table gives it. */
    @Test
    void publishedEncoderDownBlocks() {
        QwenImageVaeConfig c = QwenImageVaeConfig.QWEN_IMAGE;
        assertEquals(List.of(new DownBlock(0, DownLayer.RESIDUAL, 96, 96), new DownBlock(1, DownLayer.RESIDUAL, 96, 96),
                new DownBlock(2, DownLayer.DOWNSAMPLE_2D, 96, 96), new DownBlock(3, DownLayer.RESIDUAL, 96, 192),
                new DownBlock(4, DownLayer.RESIDUAL, 192, 192), new DownBlock(5, DownLayer.DOWNSAMPLE_3D, 192, 192),
                new DownBlock(6, DownLayer.RESIDUAL, 192, 384), new DownBlock(7, DownLayer.RESIDUAL, 384, 384),
                new DownBlock(8, DownLayer.DOWNSAMPLE_3D, 384, 384), new DownBlock(9, DownLayer.RESIDUAL, 384, 384),
                new DownBlock(10, DownLayer.RESIDUAL, 384, 384)), c.encoderDownBlocks());
        assertEquals(384, c.encoderTopDim());
    }
}
