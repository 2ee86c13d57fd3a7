package dev.ditfn.api.openai;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * Body of {@code POST /v1/images/generations}: OpenAI's fields, vLLM-Omni's extensions ({@code negative_prompt},
 * {@code num_inference_steps}, {@code true_cfg_scale}, {@code guidance_scale}, {@code seed}) and ours
 * ({@code cache}). Every field is optional here; {@link OpenAiMapping} decides what is required, refused or mapped.
 */
public record ImageGenerationRequest(
        String prompt,
        String model,
        Integer n,
        String size,
        @JsonProperty("response_format") String responseFormat,
        @JsonProperty("output_format") String outputFormat,
        @JsonProperty("output_compression") Integer outputCompression,
        String quality,
        String background,
        String user,
        Boolean stream,
        @JsonProperty("partial_images") Integer partialImages,
        @JsonProperty("negative_prompt") String negativePrompt,
        @JsonProperty("num_inference_steps") Integer numInferenceSteps,
        @JsonProperty("true_cfg_scale") Double trueCfgScale,
        @JsonProperty("guidance_scale") Double guidanceScale,
        Long seed,
        Map<String, Object> cache) {
}
