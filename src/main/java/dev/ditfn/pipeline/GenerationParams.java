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
}
