package dev.ditfn.function;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Input of {@code generate}: OpenAI image-generation fields plus vLLM-Omni's extensions. Everything but
 * {@code prompt} is optional; {@code size} ("WxH") and {@code width}/{@code height} are alternatives.
 */
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
        @JsonProperty("output_format") String outputFormat) {
}
