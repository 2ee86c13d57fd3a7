package dev.ditfn.pipeline;

/**
 * One validated text-to-image request: {@code images} images of {@code width × height}, the i-th from seed
 * {@code seed + i}. {@code negativePrompt} is null when none was given (then true CFG is off).
 */
public record GenerationParams(String prompt, String negativePrompt, int width, int height, int steps,
        float trueCfgScale, long seed, int images, ImageCodec.Format format) {

    public boolean cfg() {
        return TrueCfg.active(trueCfgScale, negativePrompt);
    }

    /** What reproduces image {@code index} alone: these parameters with its own seed and one image. */
    public GenerationParams single(int index) {
        return new GenerationParams(prompt, negativePrompt, width, height, steps, trueCfgScale, seed + index, 1, format);
    }

    /** The effective parameters, as reported in responses and written into each image's metadata. */
    public java.util.Map<String, Object> asMap() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("negative_prompt", negativePrompt);
        m.put("width", width);
        m.put("height", height);
        m.put("num_inference_steps", steps);
        m.put("true_cfg_scale", trueCfgScale);
        m.put("cfg", cfg());
        m.put("seed", seed);
        m.put("n", images);
        return m;
    }
}
