package dev.ditfn.api;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * Input of {@code edit}: {@code generate}'s fields plus the input image, base64 (plain or a {@code data:} URL), as
 * {@code image} (one) or {@code images} (Edit Plus: up to three; the last sets the default size). Names are exact.
 */
@JsonFormat(without = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record EditRequest(
        String prompt,
        String image,
        List<String> images,
        @JsonProperty("negative_prompt") String negativePrompt,
        Integer width,
        Integer height,
        String size,
        @JsonProperty("num_inference_steps") Integer numInferenceSteps,
        @JsonProperty("true_cfg_scale") Double trueCfgScale,
        Long seed,
        Integer n,
        @JsonProperty("output_format") String outputFormat,
        Map<String, Object> cache) {

    /** The generate fields of this request. */
    GenerateRequest generateFields() {
        return new GenerateRequest(prompt, negativePrompt, width, height, size, numInferenceSteps, trueCfgScale, seed,
                n, outputFormat, cache);
    }
}
