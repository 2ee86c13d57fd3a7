package dev.ditfn.engine;

/**
 * What a family's upstream pipeline assumes when a request leaves a field out, and when its guidance runs.
 *
 * @param steps          {@code num_inference_steps} default
 * @param cfgScale       the guidance scale default (Qwen-Image's {@code true_cfg_scale}, Z-Image's
 *                       {@code guidance_scale})
 * @param negativePrompt the negative prompt when none is given; null means "none", which turns guidance off
 * @param cfgAbove       guidance runs when the scale exceeds this (and a negative prompt is there)
 * @param cfgName        the upstream pipeline's name of the guidance scale ({@code true_cfg_scale} or
 *                       {@code guidance_scale}): the OpenAI door accepts that name too
 */
public record RequestDefaults(int steps, float cfgScale, String negativePrompt, float cfgAbove, String cfgName) {

    /** Whether guidance runs for {@code scale} and {@code negativePrompt} (after defaults). */
    public boolean cfg(float scale, String negativePrompt) {
        return negativePrompt != null && scale > cfgAbove;
    }
}
