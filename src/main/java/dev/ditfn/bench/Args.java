package dev.ditfn.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --key value} options of a command, checked against the keys it knows. */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    Args(String[] args, Set<String> known) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || !known.contains(a.substring(2))) {
                throw new IllegalArgumentException("unexpected argument " + a);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            values.put(a.substring(2), args[++i]);
        }
    }

    /** The options bench and calibrate take, beside their own, for what the served model fixes at load. */
    static final Set<String> LOAD = Set.of("quantization", "text-encoder-quantization", "quantization-block",
            "quantization-accuracy", "batched-guidance", "threads-spin");

    /** {@code keys} and the {@link #LOAD} options. */
    static Set<String> withLoadOptions(String... keys) {
        Set<String> all = new java.util.HashSet<>(Set.of(keys));
        all.addAll(LOAD);
        return Set.copyOf(all);
    }

    /** How the load options read in a usage line. */
    static final String LOAD_USAGE = "[--quantization none|int8|int4]"
            + " [--text-encoder-quantization none|int8|int4] [--quantization-block 32|64|128]"
            + " [--quantization-accuracy 0|4] [--batched-guidance true|false] [--threads-spin true|false]";

    /**
     * {@code --quantization}, {@code --text-encoder-quantization} (none, int8, int4), {@code --quantization-block},
     * {@code --quantization-accuracy}, {@code --batched-guidance} and {@code --threads-spin} as the served
     * {@code dit.quantization*}, {@code dit.guidance.batched} and {@code dit.threads.spin} properties.
     */
    Map<String, String> loadProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        putFlag(p, "batched-guidance", "dit.guidance.batched");
        putFlag(p, "threads-spin", "dit.threads.spin");
        p.put("dit.quantization", quantizationMode("quantization"));
        p.put("dit.quantization.text-encoder", quantizationMode("text-encoder-quantization"));
        p.put("dit.quantization.block-size", Integer.toString(integer("quantization-block", 32)));
        p.put("dit.quantization.accuracy-level", Integer.toString(integer("quantization-accuracy", 0)));
        return p;
    }

    /** A true|false option, as {@code property} where given (else the property keeps its default). */
    private void putFlag(Map<String, String> properties, String key, String property) {
        if (has(key)) {
            String v = get(key, "");
            if (!Set.of("false", "true").contains(v)) {
                throw new IllegalArgumentException("--" + key + " must be false or true, got " + v);
            }
            properties.put(property, v);
        }
    }

    private String quantizationMode(String key) {
        String v = get(key, "none");
        if (!Set.of("none", "int8", "int4").contains(v)) {
            throw new IllegalArgumentException("--" + key + " must be none, int8 or int4, got " + v);
        }
        return v;
    }

    /** Whether the option was given. */
    boolean has(String key) {
        return values.containsKey(key);
    }

    String get(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    Path path(String key) {
        String v = values.get(key);
        return v == null ? null : Path.of(v);
    }

    int integer(String key, int fallback) {
        String v = values.get(key);
        return v == null ? fallback : Integer.parseInt(v.trim());
    }

    double number(String key, double fallback) {
        String v = values.get(key);
        return v == null ? fallback : Double.parseDouble(v.trim());
    }

    List<Integer> integers(String key, String fallback) {
        List<Integer> out = new ArrayList<>();
        for (String s : get(key, fallback).split(",")) {
            out.add(Integer.parseInt(s.trim()));
        }
        return out;
    }

    List<Long> longs(String key, String fallback) {
        List<Long> out = new ArrayList<>();
        for (String s : get(key, fallback).split(",")) {
            out.add(Long.parseLong(s.trim()));
        }
        return out;
    }

    List<Double> doubles(String key, String fallback) {
        List<Double> out = new ArrayList<>();
        for (String s : get(key, fallback).split(",")) {
            out.add(Double.parseDouble(s.trim()));
        }
        return out;
    }

    /** {@code --device}: cpu, cuda or cann (default cpu). */
    dev.ditfn.config.Device device() {
        String v = get("device", "cpu");
        try {
            return dev.ditfn.config.Device.valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device must be cpu, cuda or cann, was " + v);
        }
    }

    /** {@code WxH}. */
    int[] size(String key, String fallback) {
        String[] p = get(key, fallback).toLowerCase().split("x");
        if (p.length != 2) {
            throw new IllegalArgumentException("--" + key + " must be WIDTHxHEIGHT");
        }
        return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
    }
}
