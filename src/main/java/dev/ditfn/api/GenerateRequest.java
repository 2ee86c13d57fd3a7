package dev.ditfn.api;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * Input of {@code generate}: OpenAI image-generation fields plus vLLM-Omni's extensions. Everything but
 * {@code prompt} is optional; {@code size} ("WxH") and {@code width}/{@code height} are alternatives.
 * {@code cache} overrides step-cache settings for this request ({@code backend} and any vLLM-Omni key) and may ask
 * for the per-step {@code trace}. Names are exact: Funqy reads CloudEvent data case-insensitively otherwise.
 */
@JsonFormat(without = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record GenerateRequest(
        String prompt,
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
}
