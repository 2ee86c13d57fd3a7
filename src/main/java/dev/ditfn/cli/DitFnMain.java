package dev.ditfn.cli;

import dev.ditfn.bench.BenchCommand;
import dev.ditfn.bench.CalibrateCommand;
import dev.ditfn.bench.TraceCommand;
import dev.ditfn.app.ModelFamilies;
import dev.ditfn.onnx.DType;
import dev.ditfn.scenes.SceneDatasetCommand;
import dev.ditfn.scenes.SceneScoreCommand;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;

/**
 * Entry point. Without arguments (or with Quarkus' own) it serves the function. {@code write-model} writes a
 * generated Qwen-Image snapshot in the diffusers layout and exits, without starting the server:
 * {@code java -jar quarkus-run.jar write-model --preset tiny|bench [--dtype f32|bf16|f16] [--seed N] DIR}.
 * {@code bench} and {@code calibrate} (package {@code dev.ditfn.bench}) also run without the server, and so does
 * {@code trace} (one run with its inputs as {@code .npy} files, for cross-checks) and {@code scenes}
 * ({@code dev.ditfn.scenes}), which writes a captioned data set of rendered scenes.
 */
@QuarkusMain
public final class DitFnMain {
    /** Commands that run without the server; they may draw charts or images, so AWT runs headless. */
    private static final Map<String, Function<String[], Integer>> TOOLS = Map.of("bench", BenchCommand::main,
            "calibrate", CalibrateCommand::main, "trace", TraceCommand::main, "scenes", SceneDatasetCommand::main,
            "fidelity", SceneScoreCommand::main);

    private DitFnMain() {
    }

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("write-model")) {
            System.exit(writeModel(Arrays.copyOfRange(args, 1, args.length)));
        }
        Function<String[], Integer> tool = args.length > 0 ? TOOLS.get(args[0]) : null;
        if (tool != null) {
            System.setProperty("java.awt.headless", "true");
            System.exit(tool.apply(Arrays.copyOfRange(args, 1, args.length)));
        }
        Quarkus.run(args);
    }

    static int writeModel(String... args) {
        String preset = "tiny";
        DType type = DType.FLOAT32;
        long seed = 42;
        Path dir = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--preset" -> preset = args[++i];
                    case "--dtype" -> type = dtype(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    default -> {
                        if (args[i].startsWith("--") || dir != null) {
                            throw new IllegalArgumentException("unexpected argument " + args[i]);
                        }
                        dir = Path.of(args[i]);
                    }
                }
            }
            if (dir == null) {
                throw new IllegalArgumentException("missing the output directory");
            }
            ModelFamilies.forPreset(preset).writePreset(preset, dir, type, seed);
            System.out.println("wrote the " + preset + " snapshot to " + dir.toAbsolutePath());
            return 0;
        } catch (RuntimeException e) {
            System.err.println("write-model: " + e.getMessage());
            System.err.println("usage: write-model --preset " + String.join("|", ModelFamilies.presetNames())
                    + " [--dtype f32|bf16|f16] [--seed N] DIR");
            return 2;
        }
    }

    private static DType dtype(String s) {
        return switch (s) {
            case "f32" -> DType.FLOAT32;
            case "bf16" -> DType.BFLOAT16;
            case "f16" -> DType.FLOAT16;
            default -> throw new IllegalArgumentException("--dtype must be f32, bf16 or f16, was " + s);
        };
    }
}
