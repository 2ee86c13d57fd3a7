package dev.ditfn.pipeline;

import java.util.List;
import java.util.Map;

/** Encoded images with their seeds, and wall time per stage in milliseconds (summed over images). */
public record GenerationResult(List<Image> images, Map<String, Double> timingsMs) {

    public record Image(byte[] encoded, long seed) {
    }
}
