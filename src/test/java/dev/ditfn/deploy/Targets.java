package dev.ditfn.deploy;

import dev.ditfn.config.DitConfig;
import io.smallrye.config.ConfigMappingInterface;
import io.smallrye.config.ConfigMappings;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The deployment targets and what the manifests must agree with. A target's name is its profile
 * ({@code config/application-<target>.properties}), its folder under {@code knative/} and {@code k8s/}, its image
 * tag, and its objects' name suffix ({@code dit-fn-<target>}).
 */
final class Targets {
    static final List<String> ALL = List.of("cpu", "gpu", "ascend");

    /**
     * Requests one pod serves at once: Knative's {@code containerConcurrency}. One per accelerator (a generation
     * holds the device); one on CPU too, since ORT's intra-op pool already spreads one request over every core of
     * the pod (docs/deploy.md "Concurrency"). Each profile's {@code dit.serving.max-concurrent} equals it.
     */
    static final Map<String, Integer> MAX_CONCURRENT = Map.of("cpu", 1, "gpu", 1, "ascend", 1);

    /** The extended resource that schedules a pod onto a device, per {@code dit.device}; none for cpu. */
    static final Map<String, String> DEVICE_RESOURCE = Map.of("cuda", "nvidia.com/gpu", "cann", "huawei.com/Ascend910");

    /** The image each target runs, and the Dockerfile that builds it. */
    static final Map<String, String> DOCKERFILE = Map.of("cpu", "Dockerfile.jvm", "gpu", "Dockerfile.cuda",
            "ascend", "Dockerfile.ascend");

    /** Knative's default {@code max-revision-timeout-seconds}: a longer request timeout needs a cluster setting. */
    static final long KNATIVE_MAX_TIMEOUT_SECONDS = 600;

    private static final Map<String, ConfigMappingInterface.Property> DIT_KEYS =
            ConfigMappings.getProperties(ConfigMappings.ConfigClass.configClass(DitConfig.class, "dit"));

    private Targets() {
    }

    static String image(String target) {
        return "dit-fn:" + target;
    }

    static String name(String target) {
        return "dit-fn-" + target;
    }

    /** SmallRye's environment form of a property name: {@code dit.threads.intra-op} -> {@code DIT_THREADS_INTRA_OP}. */
    static String envName(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase();
    }

    /** The {@code dit.*} property an environment variable sets, if it sets one (map entries excluded). */
    static Optional<String> ditProperty(String envVar) {
        return DIT_KEYS.keySet().stream().filter(k -> !k.contains("*") && envName(k).equals(envVar)).findFirst();
    }

    /**
     * The value the application sees for {@code property} under {@code profile} with {@code env} set: environment,
     * then config/application-&lt;profile&gt;.properties, config/application.properties, the built-in
     * application.properties (its {@code %profile.} keys first), then the mapping's default.
     */
    static Optional<String> effective(String property, String profile, Map<String, String> env) {
        String fromEnv = env.get(envName(property));
        if (fromEnv != null) {
            return Optional.of(fromEnv);
        }
        for (Path file : List.of(Path.of("config", "application-" + profile + ".properties"),
                Path.of("config", "application.properties"))) {
            String v = properties(file).get(property);
            if (v != null) {
                return Optional.of(v);
            }
        }
        Map<String, String> builtIn = properties(Path.of("src", "main", "resources", "application.properties"));
        String v = builtIn.getOrDefault("%" + profile + "." + property, builtIn.get(property));
        if (v != null) {
            return Optional.of(v);
        }
        ConfigMappingInterface.Property p = DIT_KEYS.get(property);
        return p != null && p.hasDefaultValue() ? Optional.of(p.getDefaultValue()) : Optional.empty();
    }

    static Map<String, String> properties(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Manifests.ROOT.resolve(file))) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> out = new HashMap<>();
        p.forEach((k, v) -> out.put((String) k, (String) v));
        return out;
    }
}
