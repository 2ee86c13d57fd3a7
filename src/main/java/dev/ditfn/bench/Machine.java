package dev.ditfn.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on: CPU model and clock, an fp32 peak estimate, and this process's peak RSS. */
public final class Machine {
    public static final String PEAK_BASIS = "cores x clock x 32 FLOP/cycle: two 256-bit FMA pipes per core";

    private Machine() {
    }

    /** The fp32 peak assumed for GFLOP/s figures ({@link #PEAK_BASIS}). */
    public static double peakGflops() {
        return Runtime.getRuntime().availableProcessors() * cpuGhz() * 32;
    }

    public static double cpuGhz() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("cpu MHz"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(':') + 1).trim())).max().orElse(0) / 1e3;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    public static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?") + " @ "
                    + String.format("%.2f GHz", cpuGhz());
        } catch (IOException e) {
            return "?";
        }
    }

    /** One line: cores, CPU, memory, OS, JVM. */
    public static String describe() {
        return String.format("%d cores, %s, %.1f GiB RAM, %s %s, Java %s", Runtime.getRuntime().availableProcessors(),
                cpuModel(), memTotalKb() / 1048576.0, System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("java.version"));
    }

    /** Peak resident set size of this process in MiB (VmHWM), or -1 where /proc is not there. */
    public static double peakRssMib() {
        return procStatusKb(Path.of("/proc/self/status"), "VmHWM:") / 1024.0;
    }

    private static long memTotalKb() {
        return procStatusKb(Path.of("/proc/meminfo"), "MemTotal:");
    }

    private static long procStatusKb(Path file, String key) {
        try {
            return Files.readAllLines(file).stream().filter(l -> l.startsWith(key))
                    .mapToLong(l -> Long.parseLong(l.substring(key.length()).replace("kB", "").trim())).findFirst()
                    .orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
