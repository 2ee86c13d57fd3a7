package dev.ditfn.model.qwenimage;

import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Generated snapshots are complete diffusers models. */
class QwenImageSnapshotTest {
    @TempDir
    Path dir;

    /**
     * The TINY VAE (base_dim 16, z_dim 16, dim_mult [1,2,4,4], num_res_blocks 1, temperal_downsample [F,T,T]) holds
     * every tensor of diffusers' {@code AutoencoderKLQwenImage}, derived by hand from its modules: encoder dims
     * [16, 16, 32, 64, 64], flat {@code down_blocks} 0 Res(16), 1 downsample2d(16), 2 Res(16→32), 3 downsample3d(32),
     * 4 Res(32→64), 5 downsample3d(64), 6 Res(64); encoder conv_out to 2·z_dim = 32; quant_conv 32→32.
     */
    @Test
    void tinyVaeHasEveryTensorOfTheDiffusersAutoencoder() {
        QwenImageSnapshot.write(dir, QwenImageSnapshot.TINY, DType.FLOAT32, 3);
        try (WeightStore vae = WeightStore.open(dir.resolve("vae"))) {
            Map<String, Integer> perPrefix = new TreeMap<>();
            for (String name : vae.names()) {
                String[] part = name.split("\\.");
                String prefix = part[0].equals("encoder") || part[0].equals("decoder") ? part[0] + "." + part[1]
                        : part[0];
                perPrefix.merge(prefix, 1, Integer::sum);
            }
            Map<String, Integer> expected = new TreeMap<>(Map.ofEntries(
                    Map.entry("encoder.conv_in", 2),
                    // 2 residual blocks without shortcut (6 each), 2 with (8), downsample2d (2), 2 downsample3d (4)
                    Map.entry("encoder.down_blocks", 2 * 6 + 2 * 8 + 2 + 2 * 4),
                    Map.entry("encoder.mid_block", 6 + 5 + 6),
                    Map.entry("encoder.norm_out", 1),
                    Map.entry("encoder.conv_out", 2),
                    Map.entry("quant_conv", 2),
                    Map.entry("post_quant_conv", 2),
                    Map.entry("decoder.conv_in", 2),
                    Map.entry("decoder.mid_block", 6 + 5 + 6),
                    // 4 up blocks of 2 residual blocks, one shortcut, 3 upsamplers (2) of which 2 with time_conv (2)
                    Map.entry("decoder.up_blocks", 8 * 6 + 2 + 3 * 2 + 2 * 2),
                    Map.entry("decoder.norm_out", 1),
                    Map.entry("decoder.conv_out", 2)));
            assertEquals(expected, perPrefix);
            assertEquals(146, vae.names().size());

            Map<String, long[]> shapes = new LinkedHashMap<>();
            shapes.put("encoder.conv_in.weight", new long[] {16, 3, 3, 3, 3});
            shapes.put("encoder.conv_in.bias", new long[] {16});
            shapes.put("encoder.down_blocks.0.conv1.weight", new long[] {16, 16, 3, 3, 3});
            shapes.put("encoder.down_blocks.1.resample.1.weight", new long[] {16, 16, 3, 3});
            shapes.put("encoder.down_blocks.1.resample.1.bias", new long[] {16});
            shapes.put("encoder.down_blocks.2.norm1.gamma", new long[] {16, 1, 1, 1});
            shapes.put("encoder.down_blocks.2.conv_shortcut.weight", new long[] {32, 16, 1, 1, 1});
            shapes.put("encoder.down_blocks.3.resample.1.weight", new long[] {32, 32, 3, 3});
            shapes.put("encoder.down_blocks.3.time_conv.weight", new long[] {32, 32, 3, 1, 1});
            shapes.put("encoder.down_blocks.3.time_conv.bias", new long[] {32});
            shapes.put("encoder.down_blocks.4.conv1.weight", new long[] {64, 32, 3, 3, 3});
            shapes.put("encoder.down_blocks.5.resample.1.weight", new long[] {64, 64, 3, 3});
            shapes.put("encoder.down_blocks.5.time_conv.weight", new long[] {64, 64, 3, 1, 1});
            shapes.put("encoder.down_blocks.6.conv2.weight", new long[] {64, 64, 3, 3, 3});
            shapes.put("encoder.mid_block.attentions.0.norm.gamma", new long[] {64, 1, 1});
            shapes.put("encoder.mid_block.attentions.0.to_qkv.weight", new long[] {192, 64, 1, 1});
            shapes.put("encoder.mid_block.resnets.1.norm2.gamma", new long[] {64, 1, 1, 1});
            shapes.put("encoder.norm_out.gamma", new long[] {64, 1, 1, 1});
            shapes.put("encoder.conv_out.weight", new long[] {32, 64, 3, 3, 3});
            shapes.put("encoder.conv_out.bias", new long[] {32});
            shapes.put("quant_conv.weight", new long[] {32, 32, 1, 1, 1});
            shapes.put("quant_conv.bias", new long[] {32});
            shapes.put("post_quant_conv.weight", new long[] {16, 16, 1, 1, 1});
            shapes.put("decoder.conv_in.weight", new long[] {64, 16, 3, 3, 3});
            shapes.put("decoder.up_blocks.0.upsamplers.0.time_conv.weight", new long[] {128, 64, 3, 1, 1});
            shapes.put("decoder.conv_out.weight", new long[] {3, 16, 3, 3, 3});
            shapes.forEach((name, shape) -> assertArrayEquals(shape, vae.spec(name).shape(), name));
            for (String absent : List.of("encoder.down_blocks.1.time_conv.weight", "encoder.down_blocks.7.norm1.gamma",
                    "decoder.up_blocks.2.upsamplers.0.time_conv.weight")) {
                assertFalse(vae.contains(absent), absent + ": downsample2d/upsample2d have no time_conv; 7 blocks");
            }
        }
    }

    /** Text-to-image decodes only: the decoder graph takes its tensors from the complete VAE and leaves the rest. */
    @Test
    void theDecoderBuildsFromTheCompleteVae() {
        QwenImageSnapshot.write(dir, QwenImageSnapshot.TINY, DType.FLOAT32, 3);
        QwenImageVaeConfig c = QwenImageSnapshot.TINY.vae();
        try (WeightStore vae = WeightStore.open(dir.resolve("vae"))) {
            GraphBuilder g = new QwenImageVaeDecoder(c).build(GraphTarget.CPU_FP32, vae);
            assertEquals(c.decoderTensorShapes().keySet().stream().filter(n -> !n.contains("time_conv")).sorted()
                    .toList(), g.weightNames().stream().sorted().toList());
        }
    }
}
