package dev.ditfn.model.autoencoderkl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Resample;
import dev.ditfn.model.autoencoderkl.AutoencoderKlConfig.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code vae/config.json} parsing and validation, the layout it implies and the latent scaling helpers. */
class AutoencoderKlConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** vae/config.json of FLUX.1-dev, which Z-Image's VAE repeats (metadata keys are ignored). */
    private static final String FLUX_JSON = """
            {"_class_name": "AutoencoderKL", "_diffusers_version": "0.30.0.dev0",
             "_name_or_path": "../checkpoints/flux-dev", "act_fn": "silu",
             "block_out_channels": [128, 256, 512, 512],
             "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
             "force_upcast": true, "in_channels": 3, "latent_channels": 16, "latents_mean": null, "latents_std": null,
             "layers_per_block": 2, "mid_block_add_attention": true, "norm_num_groups": 32, "out_channels": 3,
             "sample_size": 1024, "scaling_factor": 0.3611, "shift_factor": 0.1159,
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
             "use_post_quant_conv": false, "use_quant_conv": false}
            """;

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    // ---- parsing ---------------------------------------------------------------------------------------

    @Test
    void fluxConfigParsesToThePreset() throws Exception {
        AutoencoderKlConfig c = AutoencoderKlConfig.fromJson(json(FLUX_JSON));
        assertEquals(AutoencoderKlConfig.FLUX, c);
        assertEquals(8, c.scaleFactor());
        assertEquals(0.3611, c.scalingFactor());
        assertEquals(0.1159, c.shiftFactor());
        assertNull(c.latentsMean());
        assertFalse(c.useQuantConv() || c.usePostQuantConv());
    }

    @Test
    void absentKeysTakeTheDiffusersConstructorDefaults() throws Exception {
        AutoencoderKlConfig c = AutoencoderKlConfig.fromJson(json("{}"));
        assertEquals(AutoencoderKlConfig.DIFFUSERS_DEFAULTS, c);
        assertArrayEquals(new int[] {64}, c.blockOutChannels());
        assertEquals(4, c.latentChannels());
        assertEquals(1, c.scaleFactor());
        assertTrue(c.useQuantConv() && c.usePostQuantConv());
        assertNull(c.shiftFactor());
        assertEquals(0.0, c.shift());
    }

    @Test
    void toJsonRoundTripsThroughText() throws Exception {
        for (AutoencoderKlConfig c : List.of(AutoencoderKlConfig.FLUX, AutoencoderKlConfig.TINY,
                AutoencoderKlConfig.DIFFUSERS_DEFAULTS)) {
            ObjectNode o = c.toJson();
            assertEquals("AutoencoderKL", o.get("_class_name").asText());
            for (String key : AutoencoderKlConfig.KEYS) {
                assertTrue(o.has(key), key);
            }
            assertEquals(AutoencoderKlConfig.KEYS.size() + 1, o.size());
            assertEquals(c, AutoencoderKlConfig.fromJson(json(JSON.writeValueAsString(o))));
        }
        assertEquals(((ObjectNode) json(FLUX_JSON)).without(List.of("_diffusers_version", "_name_or_path")),
                AutoencoderKlConfig.FLUX.toJson());
    }

    @Test
    void latentStatisticsAndSwishAreAccepted() throws Exception {
        ObjectNode o = (ObjectNode) json(FLUX_JSON);
        o.set("latents_mean", json("[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]"));
        o.put("act_fn", "swish");
        AutoencoderKlConfig c = AutoencoderKlConfig.fromJson(o);
        assertEquals(15f, c.latentsMean()[15]);
        assertEquals("swish", c.actFn());
    }

    @Test
    void arraysAreCopied() {
        int[] boc = AutoencoderKlConfig.TINY.blockOutChannels();
        boc[0] = 99;
        assertEquals(16, AutoencoderKlConfig.TINY.blockOutChannels()[0]);
    }

    // ---- validation ------------------------------------------------------------------------------------

    /** Each case: a change to the FLUX config; words the message must contain, separated by '|'. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "\"_class_name\": \"AutoencoderKLQwenImage\"     ; _class_name | AutoencoderKLQwenImage | must be \"AutoencoderKL\"",
        "\"norm_type\": \"spatial\"                      ; unknown key norm_type | block_out_channels",
        "\"act_fn\": \"gelu\"                            ; act_fn = \"gelu\" is not supported",
        "\"act_fn\": 1                                   ; act_fn = 1 must be a string",
        "\"block_out_channels\": [128, 256, 500, 512]     ; block_out_channels | multiples of norm_num_groups = 32",
        "\"block_out_channels\": []                      ; block_out_channels must be a non-empty list",
        "\"block_out_channels\": \"128\"                 ; block_out_channels = \"128\" must be a list of integers",
        "\"norm_num_groups\": 0                          ; norm_num_groups must be >= 1",
        "\"latent_channels\": 16.0                       ; latent_channels = 16.0 must be an integer",
        "\"layers_per_block\": 0                         ; layers_per_block must be >= 1",
        "\"down_block_types\": [\"DownEncoderBlock2D\"]  ; down_block_types must have len(block_out_channels) = 4 | got 1",
        "\"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\", \"AttnUpDecoderBlock2D\", \"UpDecoderBlock2D\"] ; up_block_types entry \"AttnUpDecoderBlock2D\" is not supported",
        "\"up_block_types\": [1, 2, 3, 4]                ; up_block_types = [1,2,3,4] must be a list of strings",
        "\"down_block_types\": \"DownEncoderBlock2D\"    ; down_block_types | must be a list of strings",
        "\"scaling_factor\": 0                           ; scaling_factor must be finite and > 0",
        "\"scaling_factor\": \"0.3611\"                  ; scaling_factor = \"0.3611\" must be a number",
        "\"shift_factor\": true                          ; shift_factor = true must be a number",
        "\"use_quant_conv\": 0                           ; use_quant_conv = 0 must be a boolean",
        "\"mid_block_add_attention\": \"yes\"            ; mid_block_add_attention | must be a boolean",
        "\"latents_std\": [1, 2]                         ; latents_std must have latent_channels = 16 | got 2",
        "\"sample_size\": [1024, 1024]                   ; sample_size | must be an integer",
        "\"in_channels\": 0                              ; in_channels must be >= 1",
    })
    void invalidConfigNamesTheKey(String change, String words) throws Exception {
        ObjectNode config = (ObjectNode) json(FLUX_JSON);
        config.setAll((ObjectNode) json("{" + change + "}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderKlConfig.fromJson(config));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("invalid vae config.json: "), msg);
        for (String w : words.split("\\|")) {
            assertTrue(msg.contains(w.trim()), "'" + w.trim() + "' in: " + msg);
        }
    }

    @Test
    void notAnObject() {
        assertThrows(IllegalArgumentException.class, () -> AutoencoderKlConfig.fromJson(JSON.createArrayNode()));
    }

    // ---- layout ----------------------------------------------------------------------------------------

    @Test
    void fluxDecoderLayoutMatchesSpecTable() {
        AutoencoderKlConfig c = AutoencoderKlConfig.FLUX;
        assertEquals(stages("decoder.up_blocks", 3, Resample.UP, 512, 512, 512, 256, 128), c.decoderUpBlocks());
        Map<String, long[]> t = c.decoderTensorShapes();
        Map<String, long[]> table = new LinkedHashMap<>();
        table.put("decoder.conv_in.weight", new long[] {512, 16, 3, 3});
        table.put("decoder.mid_block.resnets.0.norm1.weight", new long[] {512});
        table.put("decoder.mid_block.resnets.1.conv2.weight", new long[] {512, 512, 3, 3});
        table.put("decoder.mid_block.attentions.0.group_norm.weight", new long[] {512});
        table.put("decoder.mid_block.attentions.0.group_norm.bias", new long[] {512});
        table.put("decoder.mid_block.attentions.0.to_q.weight", new long[] {512, 512});
        table.put("decoder.mid_block.attentions.0.to_k.bias", new long[] {512});
        table.put("decoder.mid_block.attentions.0.to_out.0.weight", new long[] {512, 512});
        table.put("decoder.up_blocks.0.resnets.2.conv1.weight", new long[] {512, 512, 3, 3});
        table.put("decoder.up_blocks.0.upsamplers.0.conv.weight", new long[] {512, 512, 3, 3});
        table.put("decoder.up_blocks.2.resnets.0.norm1.weight", new long[] {512});
        table.put("decoder.up_blocks.2.resnets.0.conv1.weight", new long[] {256, 512, 3, 3});
        table.put("decoder.up_blocks.2.resnets.0.conv_shortcut.weight", new long[] {256, 512, 1, 1});
        table.put("decoder.up_blocks.2.upsamplers.0.conv.weight", new long[] {256, 256, 3, 3});
        table.put("decoder.up_blocks.3.resnets.0.conv_shortcut.weight", new long[] {128, 256, 1, 1});
        table.put("decoder.up_blocks.3.resnets.2.norm2.bias", new long[] {128});
        table.put("decoder.conv_norm_out.weight", new long[] {128});
        table.put("decoder.conv_out.weight", new long[] {3, 128, 3, 3});
        table.put("decoder.conv_out.bias", new long[] {3});
        table.forEach((name, shape) -> assertArrayEquals(shape, t.get(name), name));
        assertFalse(t.containsKey("decoder.up_blocks.3.upsamplers.0.conv.weight"));
        assertFalse(t.containsKey("post_quant_conv.weight"));
        assertEquals(2, t.keySet().stream().filter(n -> n.endsWith("conv_shortcut.weight")).count());
        // conv_in 2 + mid resnets 2·8 + attention 10 + up resnets 12·8 + shortcuts 2·2 + upsamplers 3·2 + norm 2 + out 2
        assertEquals(2 + 16 + 10 + 96 + 4 + 6 + 2 + 2, t.size());
    }

    @Test
    void fluxEncoderLayoutAndParameterCount() {
        AutoencoderKlConfig c = AutoencoderKlConfig.FLUX;
        assertEquals(stages("encoder.down_blocks", 2, Resample.DOWN, 128, 128, 256, 512, 512), c.encoderDownBlocks());
        Map<String, long[]> t = c.encoderTensorShapes();
        assertArrayEquals(new long[] {128, 3, 3, 3}, t.get("encoder.conv_in.weight"));
        assertArrayEquals(new long[] {256, 128, 1, 1}, t.get("encoder.down_blocks.1.resnets.0.conv_shortcut.weight"));
        assertArrayEquals(new long[] {512, 512, 3, 3}, t.get("encoder.down_blocks.2.downsamplers.0.conv.weight"));
        assertFalse(t.containsKey("encoder.down_blocks.3.downsamplers.0.conv.weight"));
        assertArrayEquals(new long[] {32, 512, 3, 3}, t.get("encoder.conv_out.weight"));
        assertFalse(t.containsKey("quant_conv.weight"));
        // the published FLUX.1 VAE (diffusers format, no quant convs): 83,819,683 parameters
        long params = c.tensorShapes().values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
        assertEquals(83_819_683L, params);
    }

    @Test
    void quantConvsAppearWhenEnabled() throws Exception {
        AutoencoderKlConfig c = AutoencoderKlConfig.fromJson(((ObjectNode) json(FLUX_JSON))
                .put("use_quant_conv", true).put("use_post_quant_conv", true));
        assertArrayEquals(new long[] {32, 32, 1, 1}, c.encoderTensorShapes().get("quant_conv.weight"));
        assertArrayEquals(new long[] {16, 16, 1, 1}, c.decoderTensorShapes().get("post_quant_conv.weight"));
        AutoencoderKlConfig noAttn = AutoencoderKlConfig.fromJson(((ObjectNode) json(FLUX_JSON))
                .put("mid_block_add_attention", false));
        assertTrue(noAttn.tensorShapes().keySet().stream().noneMatch(n -> n.contains("attentions")));
    }

    @Test
    void tinyPresetHasTheFluxTopology() {
        AutoencoderKlConfig c = AutoencoderKlConfig.TINY;
        assertEquals(8, c.scaleFactor());
        assertEquals(16, c.latentChannels());
        assertEquals(stages("decoder.up_blocks", 2, Resample.UP, 32, 32, 32, 16, 16), c.decoderUpBlocks());
        assertTrue(c.decoderTensorShapes().containsKey("decoder.up_blocks.2.resnets.0.conv_shortcut.weight"));
        assertTrue(c.encoderTensorShapes().containsKey("encoder.down_blocks.2.resnets.0.conv_shortcut.weight"));
    }

    /**
     * The blocks of {@code prefix.0, prefix.1, ...}: block i maps {@code channels[i] → channels[i+1]} with
     * {@code resnets} resnets and ends in {@code resample}, except the last, which has none.
     */
    private static List<Stage> stages(String prefix, int resnets, Resample resample, int... channels) {
        List<Stage> out = new java.util.ArrayList<>();
        for (int i = 0; i + 1 < channels.length; i++) {
            out.add(new Stage(prefix + "." + i, channels[i], channels[i + 1], resnets,
                    i + 2 == channels.length ? Resample.NONE : resample));
        }
        return out;
    }

    // ---- latent scaling --------------------------------------------------------------------------------

    @Test
    void latentScalingFollowsThePipeline() {
        AutoencoderKlConfig c = AutoencoderKlConfig.FLUX;
        float[] latents = {0f, 1f, -2.5f};
        float[] z = c.latentsToDecoderInput(latents);
        assertEquals(0.1159f, z[0]);
        assertEquals(1f / 0.3611f + 0.1159f, z[1]);
        assertEquals(-2.5f / 0.3611f + 0.1159f, z[2]);
        float[] back = c.encoderOutputToLatents(z);
        for (int i = 0; i < latents.length; i++) {
            assertEquals(latents[i], back[i], 1e-6);
        }
        assertEquals((0.5f - 0.1159f) * 0.3611f, c.encoderOutputToLatents(new float[] {0.5f})[0]);
    }
}
