package dev.ditfn.engine;

import java.util.List;
import java.util.Map;

/**
 * Encoded images with their seeds, wall time per stage in milliseconds (summed over images), and what the step
 * cache did ({@code backend}, {@code config}, {@code branches}, {@code blocks_computed_fraction}, optional
 * {@code trace}; with several images, per image under {@code images}).
 */
public record GenerationResult(List<Image> images, Map<String, Double> timingsMs, Map<String, Object> cache) {

    public record Image(byte[] encoded, long seed) {
    }
}
