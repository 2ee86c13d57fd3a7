package dev.ditfn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.Value;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.testing.CpuRuntime;
import dev.ditfn.weights.WeightStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Runtime figures, not tests: ORT call overhead from Java and the memory effect of loading ~200 MB of mapped
 * weights. Excluded from the test run; run with
 * {@code ./mvnw -B test -Dgroups=measure -Dsurefire.excludedGroups=none -Dtest=RuntimeMeasurements}.
 * Results are printed and written to {@code target/measurements/runtime.txt}.
 */
@Tag("measure")
class RuntimeMeasurements {
    private static final OrtEnvironment ENV = CpuRuntime.shared().env();
    private final StringBuilder report = new StringBuilder();

    @Test
    void measure() throws Exception {
        runOverhead();
        largeModelMemory(false);
        largeModelMemory(true);
        Path out = Path.of("target", "measurements", "runtime.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
    }

    /** Median wall time of session.run on a one-element Add graph: the fixed cost of a call from Java. */
    private void runOverhead() throws Exception {
        GraphBuilder g = new GraphBuilder("overhead", GraphTarget.CPU_FP32, null);
        Value x = g.input("x", DType.FLOAT32, 1);
        g.output(g.add(x, g.scalar(1f)), "y", DType.FLOAT32, 1);
        try (ModelSession s = CpuRuntime.shared().createSession(g, emptyStore());
                OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(new float[] {1f}), new long[] {1})) {
            Map<String, OnnxTensor> inputs = Map.of("x", in);
            for (int i = 0; i < 20_000; i++) {
                s.run(inputs).close();
            }
            int rounds = 7;
            int calls = 20_000;
            double[] perCall = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < calls; i++) {
                    s.run(inputs).close();
                }
                perCall[r] = (System.nanoTime() - t0) / 1e3 / calls;
            }
            Arrays.sort(perCall);
            line("ORT run() overhead, 1-element Add, input tensor reused, result closed: median %.2f us/call "
                    + "(min %.2f, max %.2f; %d rounds x %d calls)", perCall[rounds / 2], perCall[0],
                    perCall[rounds - 1], rounds, calls);
        }
    }

    private static WeightStore emptyStore() throws IOException {
        Path dir = Files.createTempDirectory("dit-empty");
        new dev.ditfn.weights.SafetensorsWriter().add("unused", DType.FLOAT32, new long[] {1}, new float[] {0})
                .write(dir.resolve("w.safetensors"));
        return WeightStore.open(dir);
    }

    /** Heap and RSS before and after opening, session creation and one forward of the ~200 MB probe model. */
    private void largeModelMemory(boolean prepack) throws Exception {
        line("-- dit.prepack-weights=%s", prepack);
        Path dir = Path.of("target", "measurements", "probe-large");
        ProbeTransformer arch = ProbeSnapshot.LARGE;
        if (!Files.exists(dir.resolve("model_index.json"))) {
            ProbeSnapshot.write(dir, arch, DType.FLOAT32, 1);
        }
        Mem base = Mem.now();
        try (WeightStore weights = WeightStore.open(dir.resolve("transformer"))) {
            long bytes = weights.byteSize();
            line("large probe model: %d tensors, %.1f MB fp32 weights in %s", weights.names().size(), bytes / 1e6,
                    dir.resolve("transformer"));
            for (String n : weights.names()) {
                weights.data(n); // map every tensor
            }
            Mem mapped = Mem.now();
            line("after opening + mapping every tensor: %s", mapped.minus(base));
            long t0 = System.nanoTime();
            try (ModelSession s = CpuRuntime.create(prepack).createSession(arch.build(GraphTarget.CPU_FP32, weights),
                    weights)) {
                double sessionMs = (System.nanoTime() - t0) / 1e6;
                Mem session = Mem.now();
                line("after creating the session (%.0f ms): %s", sessionMs, session.minus(base));
                int tokens = 256;
                double[] ms = new double[7];
                try (OnnxTensor x = OnnxTensor.createTensor(ENV, FloatBuffer.allocate(tokens * arch.inChannels()),
                        new long[] {1, tokens, arch.inChannels()})) {
                    for (int i = -2; i < ms.length; i++) {
                        long f0 = System.nanoTime();
                        s.run(Map.of("hidden_states", x)).close();
                        if (i >= 0) {
                            ms[i] = (System.nanoTime() - f0) / 1e6;
                        }
                    }
                    Arrays.sort(ms);
                    line("forward, %d tokens: median %.1f ms (min %.1f, max %.1f, %d runs after 2 warm-up)", tokens,
                            ms[ms.length / 2], ms[0], ms[ms.length - 1], ms.length);
                    Mem run = Mem.now();
                    line("after the forwards: %s", run.minus(base));
                }
            }
        }
    }

    private void line(String format, Object... args) {
        String s = String.format(format, args);
        System.out.println(s);
        report.append(s).append('\n');
    }

    /** Heap in use; resident memory split into anonymous (copies) and file-backed (mapped weights) pages. */
    private record Mem(double heapMb, double anonMb, double fileMb) {
        static Mem now() throws IOException {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            Runtime rt = Runtime.getRuntime();
            List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
            return new Mem((rt.totalMemory() - rt.freeMemory()) / 1e6, kb(status, "RssAnon:") / 1e3,
                    kb(status, "RssFile:") / 1e3);
        }

        private static long kb(List<String> status, String key) {
            return status.stream().filter(l -> l.startsWith(key))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
        }

        String minus(Mem base) {
            return String.format("heap %+.1f MB, RSS anonymous %+.1f MB, RSS file-backed %+.1f MB",
                    heapMb - base.heapMb, anonMb - base.anonMb, fileMb - base.fileMb);
        }
    }
}
