package dev.ditfn.scenes;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code scenes}: writes a {@link SceneDataset}. Callers set {@code java.awt.headless=true} first.
 */
public final class SceneDatasetCommand {
    static final String USAGE = "usage: scenes --split train|eval --count N --out DIR [--seed S (default 0)]"
            + " [--size W (default 96; a multiple of 16, at least 64)]";
    private static final Set<String> OPTIONS = Set.of("split", "count", "seed", "size", "out");

    private SceneDatasetCommand() {
    }

    /** Runs the command; returns the exit code (0 done, 1 write failed, 2 bad arguments). */
    public static int main(String... args) {
        SceneDataset dataset;
        Path out;
        try {
            Map<String, String> options = options(args, OPTIONS);
            dataset = new SceneDataset(split(required(options, "split")),
                    Integer.parseInt(required(options, "count")),
                    Long.parseLong(options.getOrDefault("seed", "0")),
                    Integer.parseInt(options.getOrDefault("size", "96")));
            out = Path.of(required(options, "out"));
        } catch (IllegalArgumentException e) {
            // NumberFormatException included: its message names the bad value.
            System.err.println("scenes: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        long start = System.nanoTime();
        try {
            dataset.write(out, System.out);
        } catch (IOException e) {
            System.err.println("scenes: cannot write " + out + ": " + e.getMessage());
            return 1;
        }
        System.out.printf(Locale.ROOT, "scenes: wrote %d images to %s in %.1f s%n", dataset.count(), out,
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** {@code --key value} pairs, every key one of {@code known}. */
    static Map<String, String> options(String[] args, Set<String> known) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            String key = args[i].startsWith("--") ? args[i].substring(2) : "";
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            options.put(key, args[i + 1]);
        }
        return options;
    }

    static String required(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return value;
    }

    private static SceneSplit split(String name) {
        return switch (name) {
            case "train" -> SceneSplit.TRAIN;
            case "eval" -> SceneSplit.EVAL;
            default -> throw new IllegalArgumentException("--split must be train or eval, got " + name);
        };
    }
}
