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
