package dev.ditfn.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightsException;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

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
 * @param size           width and height when a request gives no size (upstream's 1024 is too slow for a CPU
 *                       default, so both families default to 256; a snapshot's {@link #SNAPSHOT_KEY} may say
 *                       otherwise)
 */
public record RequestDefaults(int steps, float cfgScale, String negativePrompt, float cfgAbove, String cfgName,
        int size) {
    /** The size every family defaults to unless its snapshot says otherwise. */
    public static final int DEFAULT_SIZE = 256;
    /** The optional object in {@code model_index.json} by which a snapshot states what it is good at. */
    public static final String SNAPSHOT_KEY = "_dit_fn_defaults";
    private static final Set<String> SNAPSHOT_FIELDS = Set.of("num_inference_steps", "guidance", "negative_prompt",
            "size");

    /** Whether guidance runs for {@code scale} and {@code negativePrompt} (after defaults). */
    public boolean cfg(float scale, String negativePrompt) {
        return negativePrompt != null && scale > cfgAbove;
    }

    /** These defaults with {@code snapshot}'s own ({@link #overriddenBy}); a bad entry fails the load. */
    public RequestDefaults forSnapshot(DiffusersSnapshot snapshot) {
        try {
            return overriddenBy(snapshot.metadata(SNAPSHOT_KEY));
        } catch (IllegalArgumentException e) {
            throw new WeightsException(snapshot.dir().resolve("model_index.json") + ": " + e.getMessage(), e);
        }
    }

    /**
     * These defaults with a snapshot's own ({@link #SNAPSHOT_KEY}: {@code num_inference_steps}, {@code guidance}
     * (the scale), {@code negative_prompt}, {@code size}); absent or null leaves them as they are.
     *
     * @throws IllegalArgumentException naming the field that is unknown or out of range
     */
    public RequestDefaults overriddenBy(JsonNode snapshot) {
        if (snapshot == null || snapshot.isNull()) {
            return this;
        }
        if (!snapshot.isObject()) {
            throw new IllegalArgumentException(SNAPSHOT_KEY + " must be an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = snapshot.fields(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (!SNAPSHOT_FIELDS.contains(key)) {
                throw new IllegalArgumentException(SNAPSHOT_KEY + " has an unknown field '" + key + "' (known: "
                        + String.join(", ", SNAPSHOT_FIELDS.stream().sorted().toList()) + ")");
            }
        }
        int s = (int) number(snapshot, "num_inference_steps", steps, 1, 1000);
        float scale = (float) number(snapshot, "guidance", cfgScale, 0, 100);
        int side = (int) number(snapshot, "size", size, 16, 4096);
        JsonNode negative = snapshot.get("negative_prompt");
        if (negative != null && !negative.isNull() && !negative.isTextual()) {
            throw new IllegalArgumentException(SNAPSHOT_KEY + ".negative_prompt must be a string");
        }
        String neg = negative == null || negative.isNull() ? negativePrompt : negative.asText();
        return new RequestDefaults(s, scale, neg, cfgAbove, cfgName, side);
    }

    private static double number(JsonNode node, String field, double fallback, double min, double max) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        boolean integral = !field.equals("guidance");
        if (!v.isNumber() || (integral && !(v.isIntegralNumber() && v.canConvertToInt()))
                || v.asDouble() < min || v.asDouble() > max) {
            throw new IllegalArgumentException(SNAPSHOT_KEY + "." + field + " must be " + (integral ? "an integer"
                    : "a number") + " in [" + (long) min + ", " + (long) max + "], was " + v);
        }
        return v.asDouble();
    }
}
