package dev.ditfn.api;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/** Output of {@code generate}: base64 images (OpenAI's {@code b64_json}) with what produced them. */
public record GenerateResponse(
        long created,
        String model,
        List<Image> data,
        @JsonProperty("output_format") String outputFormat,
        String size,
        Map<String, Object> parameters,
        @JsonProperty("timings_ms") Map<String, Double> timingsMs,
        Map<String, Object> cache) {

    /** One image and the seed it was generated from. */
    public record Image(@JsonProperty("b64_json") String b64Json, long seed) {
    }
}
