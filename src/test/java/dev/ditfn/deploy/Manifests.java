package dev.ditfn.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.knative.eventing.v1.Broker;
import io.fabric8.knative.eventing.v1.Trigger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The deployment manifests under {@code knative/} and {@code k8s/}, read strictly into fabric8's typed Kubernetes
 * and Knative models: an unknown or misspelt field, a duplicate key, a wrongly typed scalar (a number where a string
 * is due) or a kind not listed here is an error. fabric8's models keep unknown fields in an "additional properties"
 * map; the introspector below switches that off so that Jackson rejects them instead.
 *
 * <p>Kustomizations only compose: {@code resources} (files, or directories with their own kustomization) and nothing
 * else, so that {@link #build} yields exactly what {@code kubectl apply -k} applies, without a kustomize binary.
 */
final class Manifests {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final List<Path> TREES = List.of(ROOT.resolve("knative"), ROOT.resolve("k8s"));

    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Service", Service.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "apps/v1/Deployment", Deployment.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "serving.knative.dev/v1/Service", io.fabric8.knative.serving.v1.Service.class,
            "eventing.knative.dev/v1/Broker", Broker.class,
            "eventing.knative.dev/v1/Trigger", Trigger.class);

    static final ObjectMapper STRICT = JsonMapper.builder(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            // A label or env value written as true or 1 is a string to Kubernetes only when quoted.
            .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
            .annotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(Annotated a) {
                    return false;
                }
            })
            .build();

    /** A kustomization that only lists what it is made of. */
    record Kustomization(String apiVersion, String kind, List<String> resources) {
    }

    /** One object and the file it came from. */
    record Manifest(Path file, HasMetadata object) {
        String id() {
            return object.getApiVersion() + "/" + object.getKind() + "/" + object.getMetadata().getName();
        }
    }

    private Manifests() {
    }

    /** Every directory under the trees that has a kustomization.yaml: each is an apply -k target. */
    static List<Path> kustomizations() {
        List<Path> dirs = new ArrayList<>();
        for (Path tree : TREES) {
            try (Stream<Path> s = Files.walk(tree)) {
                s.filter(p -> p.getFileName().toString().equals("kustomization.yaml"))
                        .map(Path::getParent).sorted().forEach(dirs::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dirs;
    }

    /** Every YAML file under the trees. */
    static Set<Path> yamlFiles() {
        Set<Path> files = new LinkedHashSet<>();
        for (Path tree : TREES) {
            try (Stream<Path> s = Files.walk(tree)) {
                s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted()
                        .forEach(p -> files.add(p.normalize()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    static Kustomization kustomization(Path dir) {
        Path file = dir.resolve("kustomization.yaml");
        try {
            Kustomization k = STRICT.readValue(file.toFile(), Kustomization.class);
            if (!"kustomize.config.k8s.io/v1beta1".equals(k.apiVersion()) || !"Kustomization".equals(k.kind())
                    || k.resources() == null || k.resources().isEmpty()) {
                throw new IllegalArgumentException(file + ": expected a kustomize.config.k8s.io/v1beta1 Kustomization"
                        + " with resources");
            }
            return k;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** What {@code kubectl apply -k dir} applies, in order, with the files each object came from. */
    static List<Manifest> build(Path dir) {
        Map<String, Manifest> objects = new LinkedHashMap<>();
        for (String resource : kustomization(dir).resources()) {
            Path path = dir.resolve(resource).normalize();
            List<Manifest> parts = Files.isDirectory(path) ? build(path) : read(path);
            for (Manifest m : parts) {
                Manifest previous = objects.putIfAbsent(m.id(), m);
                if (previous != null) {
                    throw new IllegalArgumentException(dir + ": " + m.id() + " is defined in both " + previous.file()
                            + " and " + m.file());
                }
            }
        }
        return List.copyOf(objects.values());
    }

    /** The objects of one YAML file (documents separated by ---), strictly typed. */
    static List<Manifest> read(Path file) {
        List<Manifest> out = new ArrayList<>();
        try (var parser = STRICT.getFactory().createParser(file.toFile())) {
            for (var docs = STRICT.readValues(parser, JsonNode.class); docs.hasNextValue(); ) {
                JsonNode doc = docs.nextValue();
                String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                Class<? extends HasMetadata> kind = KINDS.get(type);
                if (kind == null) {
                    throw new IllegalArgumentException(file + ": no typed model for " + type + " (known: "
                            + KINDS.keySet() + ")");
                }
                HasMetadata object = STRICT.treeToValue(doc, kind);
                if (object.getMetadata() == null || object.getMetadata().getName() == null) {
                    throw new IllegalArgumentException(file + ": " + type + " without metadata.name");
                }
                out.add(new Manifest(file, object));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no object");
        }
        return out;
    }

    /** The only object of {@code type} named {@code name} in {@code build}. */
    static <T extends HasMetadata> T one(List<Manifest> build, Class<T> type, String name) {
        List<T> found = all(build, type).stream().filter(o -> name.equals(o.getMetadata().getName())).toList();
        if (found.size() != 1) {
            throw new AssertionError("expected one " + type.getSimpleName() + " " + name + ", found " + found.size());
        }
        return found.get(0);
    }

    static <T extends HasMetadata> List<T> all(List<Manifest> build, Class<T> type) {
        return build.stream().map(Manifest::object).filter(type::isInstance).map(type::cast).toList();
    }
}
