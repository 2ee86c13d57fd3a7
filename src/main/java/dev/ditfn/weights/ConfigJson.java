package dev.ditfn.weights;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Strict typed reads of one component's config JSON ({@code transformer/config.json},
 * {@code scheduler/scheduler_config.json}, ...). A key that is absent or JSON {@code null} takes the caller's default:
 * diffusers writes {@code null} for optional keys left at their {@code None} default ({@link #isNull} tells the two
 * apart where a model gives {@code null} a meaning of its own). A value of the wrong type is refused, never coerced:
 * {@code "abc"} is not a number and {@code 2.5} is not an integer. Every message reads
 * {@code invalid <file>: <key> = <value> must ...}, naming the file, the key (with its path under nested objects) and
 * the value as written.
 */
public final class ConfigJson {
    /** Array length for {@code ...Array} reads that take any number of elements. */
    public static final int ANY_LENGTH = -1;

    /** A JSON value type as messages name it, alone and in a list, with its test and its Java value. */
    private record Type<T>(String one, String many, Predicate<JsonNode> is, Function<JsonNode, T> read) {
    }

    // An integer is an integral JSON number in int range: 2.0 and 1e3 are floats in Python and refused here.
    private static final Type<Integer> INTEGER = new Type<>("an integer", "integers",
            v -> v.isIntegralNumber() && v.canConvertToInt(), JsonNode::intValue);
    private static final Type<Double> NUMBER = new Type<>("a number", "numbers", JsonNode::isNumber,
            JsonNode::doubleValue);
    private static final Type<Boolean> BOOLEAN = new Type<>("a boolean", "booleans", JsonNode::isBoolean,
            JsonNode::booleanValue);
    private static final Type<String> STRING = new Type<>("a string", "strings", JsonNode::isTextual,
            JsonNode::textValue);

    private final JsonNode json;
    private final String file;
    /** Key prefix of a nested object, e.g. {@code "rope_scaling."}; empty at the top level. */
    private final String path;

    /**
     * @param file how messages name the file, e.g. {@code "transformer config.json"}
     * @throws IllegalArgumentException when {@code json} is not a JSON object
     */
    public ConfigJson(JsonNode json, String file) {
        this(json, file, "");
        if (json == null || !json.isObject()) {
            throw invalid(file, "expected a JSON object, got " + json);
        }
    }

    private ConfigJson(JsonNode json, String file, String path) {
        this.json = json;
        this.file = file;
        this.path = path;
    }

    /** The exception of every message about {@code file}: {@code invalid <file>: <message>}. */
    public static IllegalArgumentException invalid(String file, String message) {
        return new IllegalArgumentException("invalid " + file + ": " + message);
    }

    /** For checks across keys: an {@link IllegalArgumentException} naming this file. */
    public IllegalArgumentException bad(String message) {
        return invalid(file, message);
    }

    /** Whether {@code key} holds a value (JSON {@code null} counts as absent). */
    public boolean has(String key) {
        return value(key) != null;
    }

    /** Whether {@code key} is written as JSON {@code null}, for the keys where that differs from absent. */
    public boolean isNull(String key) {
        JsonNode v = json.get(key);
        return v != null && v.isNull();
    }

    /** A required integer: fails when absent or null. */
    public int integer(String key) {
        return read(key, required(key), INTEGER);
    }

    public int integer(String key, int fallback) {
        return optional(key, fallback, INTEGER);
    }

    /** A required number: fails when absent or null. */
    public double number(String key) {
        return read(key, required(key), NUMBER);
    }

    /** Any JSON number; integers are numbers too ({@code 1} for {@code 1.0}). */
    public double number(String key, double fallback) {
        return optional(key, fallback, NUMBER);
    }

    public boolean bool(String key, boolean fallback) {
        return optional(key, fallback, BOOLEAN);
    }

    public String string(String key, String fallback) {
        return optional(key, fallback, STRING);
    }

    /** Checks diffusers' {@code _class_name}, when written, against the class the caller builds. */
    public void requireClassName(String expected) {
        String cls = string("_class_name", expected);
        if (!cls.equals(expected)) {
            throw bad(key("_class_name") + " = \"" + cls + "\" must be \"" + expected + "\"");
        }
    }

    /**
     * The nested object under {@code key}, whose messages name its keys as {@code key.inner}; null when absent or
     * JSON {@code null}.
     */
    public ConfigJson object(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw mustBe(key, v, "an object");
        }
        return new ConfigJson(v, file, key(key) + ".");
    }

    /** A list of integers of {@code length} elements (or {@link #ANY_LENGTH}); {@code fallback} when absent. */
    public int[] intArray(String key, int length, int[] fallback) {
        JsonNode v = array(key, length, INTEGER);
        return v == null ? fallback : elements(v).mapToInt(JsonNode::intValue).toArray();
    }

    /** A list of numbers of {@code length} elements (or {@link #ANY_LENGTH}); {@code fallback} when absent. */
    public double[] doubleArray(String key, int length, double[] fallback) {
        JsonNode v = array(key, length, NUMBER);
        return v == null ? fallback : elements(v).mapToDouble(JsonNode::doubleValue).toArray();
    }

    /** {@link #doubleArray} rounded to fp32, for values the model holds as float32 tensors. */
    public float[] floatArray(String key, int length, float[] fallback) {
        double[] d = doubleArray(key, length, null);
        if (d == null) {
            return fallback;
        }
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    /** A list of booleans of {@code length} elements (or {@link #ANY_LENGTH}); {@code fallback} when absent. */
    public boolean[] boolArray(String key, int length, boolean[] fallback) {
        JsonNode v = array(key, length, BOOLEAN);
        if (v == null) {
            return fallback;
        }
        boolean[] out = new boolean[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i).booleanValue();
        }
        return out;
    }

    private static Stream<JsonNode> elements(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false);
    }

    private JsonNode value(String key) {
        JsonNode v = json.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private JsonNode required(String key) {
        JsonNode v = value(key);
        if (v == null) {
            throw bad("missing " + key(key));
        }
        return v;
    }

    private <T> T optional(String key, T fallback, Type<T> type) {
        JsonNode v = value(key);
        return v == null ? fallback : read(key, v, type);
    }

    private <T> T read(String key, JsonNode v, Type<T> type) {
        if (!type.is().test(v)) {
            throw mustBe(key, v, type.one());
        }
        return type.read().apply(v);
    }

    /** The array under {@code key} after checking its length and every element's type; null when absent. */
    private JsonNode array(String key, int length, Type<?> element) {
        JsonNode v = value(key);
        if (v == null) {
            return null;
        }
        String expected = "a list of " + (length == ANY_LENGTH ? "" : length + " ") + element.many();
        if (!v.isArray() || (length != ANY_LENGTH && v.size() != length)) {
            throw mustBe(key, v, expected);
        }
        for (JsonNode e : v) {
            if (!element.is().test(e)) {
                throw mustBe(key, v, expected);
            }
        }
        return v;
    }

    private IllegalArgumentException mustBe(String key, JsonNode v, String what) {
        return bad(key(key) + " = " + v + " must be " + what);
    }

    private String key(String key) {
        return path + key;
    }
}
