package dev.ditfn.engine;

import dev.ditfn.engine.image.EditSizing;
import dev.ditfn.onnx.WeightQuantization;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a deployment fixes at load: the DBCache block splits its sessions must serve, as {@code Fn_compute_blocks}
 * and {@code Bn_compute_blocks} pairs (the transformer is cut at {@code Fn} and {@code N − Bn} for each), and the
 * pixel areas Qwen-Image-Edit resizes its input images to.
 *
 * @param vaeImageArea       the area of an edit's VAE (condition-token) image; upstream 1024²
 * @param conditionImageArea Edit Plus: the area of the vision encoder's image; upstream 384²
 * @param transformerQuantization how the transformer's linear weights run ({@code dit.quantization})
 * @param textEncoderQuantization how the text encoder's linear weights run ({@code dit.quantization.text-encoder});
 *                                the VAE and the vision tower stay in full precision
 * @param batchedGuidance         whether a step that computes both guidance branches runs them as one batch-2
 *                                forward ({@code dit.guidance.batched}; Qwen-Image families)
 */
public record LoadOptions(Set<FnBn> cacheSplits, long vaeImageArea, long conditionImageArea,
        WeightQuantization transformerQuantization, WeightQuantization textEncoderQuantization,
        boolean batchedGuidance) {
    /** With upstream's image areas ({@code VAE_IMAGE_SIZE} 1024², {@code CONDITION_IMAGE_SIZE} 384²). */
    public LoadOptions(Set<FnBn> cacheSplits) {
        this(cacheSplits, EditSizing.VAE_IMAGE_AREA, EditSizing.CONDITION_IMAGE_AREA);
    }

    /** Full-precision weights. */
    public LoadOptions(Set<FnBn> cacheSplits, long vaeImageArea, long conditionImageArea) {
        this(cacheSplits, vaeImageArea, conditionImageArea, WeightQuantization.NONE, WeightQuantization.NONE, false);
    }

    /** The same options with the transformer's weights quantized as {@code q}. */
    public LoadOptions withTransformerQuantization(WeightQuantization q) {
        return new LoadOptions(cacheSplits, vaeImageArea, conditionImageArea, q, textEncoderQuantization,
                batchedGuidance);
    }

    /** The same options with the text encoder's weights quantized as {@code q}. */
    public LoadOptions withTextEncoderQuantization(WeightQuantization q) {
        return new LoadOptions(cacheSplits, vaeImageArea, conditionImageArea, transformerQuantization, q,
                batchedGuidance);
    }

    /** The same options with batched guidance on or off. */
    public LoadOptions withBatchedGuidance(boolean on) {
        return new LoadOptions(cacheSplits, vaeImageArea, conditionImageArea, transformerQuantization,
                textEncoderQuantization, on);
    }

    /** One DBCache split: {@code Fn} leading and {@code Bn} trailing blocks always computed. */
    public record FnBn(int fn, int bn) {
        private static final Pattern NAME = Pattern.compile("F(\\d{1,4})B(\\d{1,4})");

        /** Parses cache-dit's name of a split, e.g. {@code F8B0}. */
        public static FnBn parse(String name) {
            Matcher m = NAME.matcher(name.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + name + "' is not a DBCache split such as F8B0 (F<Fn_compute_blocks>"
                        + "B<Bn_compute_blocks>)");
            }
            return new FnBn(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }

        @Override
        public String toString() {
            return "F" + fn + "B" + bn;
        }
    }

    public LoadOptions {
        cacheSplits = Set.copyOf(cacheSplits);
        java.util.Objects.requireNonNull(transformerQuantization, "transformerQuantization");
        java.util.Objects.requireNonNull(textEncoderQuantization, "textEncoderQuantization");
        if (vaeImageArea < 32 * 32 || conditionImageArea < 32 * 32) {
            throw new IllegalArgumentException("edit image areas must be at least 32x32 pixels, were " + vaeImageArea
                    + " and " + conditionImageArea);
        }
    }

    /** The block indices where a transformer of {@code blocks} blocks must be cut. */
    public Set<Integer> cuts(int blocks) {
        Set<Integer> cuts = new TreeSet<>();
        for (FnBn s : cacheSplits) {
            if (s.fn() < 0 || s.bn() < 0 || s.fn() + s.bn() > blocks) {
                throw new IllegalArgumentException("the DBCache split " + s + " (Fn_compute_blocks, Bn_compute_blocks)"
                        + " does not fit the transformer's " + blocks + " blocks");
            }
            cuts.add(s.fn());
            cuts.add(blocks - s.bn());
        }
        return cuts;
    }
}
