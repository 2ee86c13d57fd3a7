package dev.ditfn.deploy;

import dev.ditfn.api.ImageFunctions;
import dev.ditfn.deploy.Manifests.Manifest;
import io.fabric8.knative.eventing.v1.Broker;
import io.fabric8.knative.eventing.v1.Trigger;
import io.fabric8.knative.serving.v1.RevisionSpec;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kustomization under knative/ and k8s/ builds into strictly parsed, typed objects, and the objects agree with
 * the application and with each other: profiles exist in config/, one request per pod as {@link Targets#MAX_CONCURRENT}
 * says, probe budgets fit the progress deadline, request timeouts fit Knative's default limit and the k8s grace
 * periods, ORT's thread pool matches the CPU limit, the model volume is read-only, the root file system is
 * read-only with a writable /tmp, accelerators match the profile's device, the port is the application's. Probe paths
 * are checked against the running application in {@link ManifestsAppTest}.
 */
class ManifestsTest {
    private static final String STARTED = "/q/health/started";
    private static final String READY = "/q/health/ready";
    private static final String LIVE = "/q/health/live";

    @Test
    void everyKustomizationBuildsAndEveryManifestFileIsUsed() {
        List<Path> dirs = Manifests.kustomizations();
        Set<String> expected = new HashSet<>();
        for (String t : Targets.ALL) {
            expected.add("knative/" + t);
            expected.add("k8s/" + t);
        }
        expected.addAll(List.of("knative/events", "k8s/model"));
        assertEquals(expected,
                dirs.stream().map(d -> Manifests.ROOT.relativize(d).toString()).collect(Collectors.toSet()));
        Set<Path> used = new HashSet<>();
        for (Path dir : dirs) {
            List<Manifest> build = Manifests.build(dir);
            assertFalse(build.isEmpty(), dir.toString());
            build.forEach(m -> used.add(m.file().normalize()));
            used.add(dir.resolve("kustomization.yaml").normalize());
        }
        Set<Path> unused = new HashSet<>(Manifests.yamlFiles());
        unused.removeAll(used);
        assertEquals(Set.of(), unused, "YAML files no kustomization applies (and no test reads)");
    }

    @Test
    void strictParsingRejectsWhatKubernetesWouldNot(@TempDir Path dir) throws IOException {
        String service = Files.readString(Manifests.ROOT.resolve("knative/gpu/service.yaml"));
        assertFalse(Manifests.read(write(dir, "ok.yaml", service)).isEmpty());
        assertRejected(dir, "misspelt.yaml", service.replace("containerConcurrency:", "containerConcurency:"),
                "containerConcurency");
        assertRejected(dir, "unknown-nested.yaml", service.replace("readOnly: true", "readonly: true"), "readonly");
        assertRejected(dir, "boolean-label.yaml", service.replace("nvidia.com/gpu.present: \"true\"",
                "nvidia.com/gpu.present: true"), "");
        assertRejected(dir, "number-env.yaml", service.replace("value: gpu", "value: 7"), "");
        assertRejected(dir, "string-number.yaml", service.replace("timeoutSeconds: 600", "timeoutSeconds: \"600\""),
                "");
        assertRejected(dir, "duplicate.yaml", service.replace("      containerConcurrency: 1\n",
                "      containerConcurrency: 1\n      containerConcurrency: 2\n"), "containerConcurrency");
        assertRejected(dir, "unknown-kind.yaml", service.replace("kind: Service", "kind: Servise"), "Servise");
        Path k = dir.resolve("k");
        Files.createDirectories(k);
        write(k, "service.yaml", service);
        write(k, "kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                + "resources:\n  - service.yaml\nnamePrefix: x-\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Manifests.build(k));
        assertTrue(e.getMessage().contains("namePrefix"), e.getMessage());
        write(k, "kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                + "resources:\n  - service.yaml\n  - service.yaml\n");
        e = assertThrows(IllegalArgumentException.class, () -> Manifests.build(k));
        assertTrue(e.getMessage().contains("defined in both"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu", "ascend"})
    void knativeService(String target) {
        List<Manifest> build = Manifests.build(Manifests.ROOT.resolve("knative/" + target));
        var service = Manifests.one(build, io.fabric8.knative.serving.v1.Service.class, Targets.name(target));
        assertEquals(1, Manifests.all(build, io.fabric8.knative.serving.v1.Service.class).size());
        Map<String, String> annotations = service.getSpec().getTemplate().getMetadata().getAnnotations();
        RevisionSpec spec = service.getSpec().getTemplate().getSpec();
        assertEquals(1, spec.getContainers().size(), "one container: queue-proxy routes to it");
        Container c = spec.getContainers().get(0);

        assertEquals((long) Targets.MAX_CONCURRENT.get(target), spec.getContainerConcurrency(),
                "containerConcurrency must equal Targets.MAX_CONCURRENT");
        assertEquals("0", annotations.get("autoscaling.knative.dev/min-scale"), "scales to zero");
        assertTrue(Integer.parseInt(annotations.get("autoscaling.knative.dev/max-scale")) >= 1);
        assertEquals("concurrency", annotations.get("autoscaling.knative.dev/metric"));

        assertTrue(spec.getTimeoutSeconds() <= Targets.KNATIVE_MAX_TIMEOUT_SECONDS,
                "timeoutSeconds above Knative's default max-revision-timeout-seconds");
        Duration requestTimeout = Duration.parse(Targets.effective("dit.serving.request-timeout", target,
                environment(c, build)).orElseThrow());
        assertTrue(requestTimeout.toSeconds() < spec.getTimeoutSeconds(), "dit.serving.request-timeout "
                + requestTimeout + " must end a request (504) before the queue-proxy cuts it at timeoutSeconds");
        // generate answers only when its images are done: the first byte comes at the end.
        assertEquals(spec.getTimeoutSeconds(), spec.getResponseStartTimeoutSeconds());
        long startupBudget = budgetSeconds(c.getStartupProbe());
        Duration progressDeadline = goDuration(annotations.get("serving.knative.dev/progress-deadline"));
        assertTrue(progressDeadline.toSeconds() > startupBudget, "progress deadline " + progressDeadline
                + " must exceed the startup probe's budget " + startupBudget + " s (plus an image pull)");

        assertEquals(1, c.getPorts().size(), "Knative routes to exactly one port");
        assertEquals("http1", c.getPorts().get(0).getName());
        for (Probe p : List.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe())) {
            assertNull(p.getHttpGet().getPort(), "Knative probes the serving port; it must not be set");
        }
        checkContainer(target, c, spec.getVolumes(), spec.getNodeSelector(), spec.getTolerations(), build);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu", "ascend"})
    void kubernetesDeployment(String target) {
        List<Manifest> build = Manifests.build(Manifests.ROOT.resolve("k8s/" + target));
        Deployment deployment = Manifests.one(build, Deployment.class, Targets.name(target));
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), podLabels);
        assertEquals(1, pod.getContainers().size());
        Container c = pod.getContainers().get(0);
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        checkContainer(target, c, pod.getVolumes(), pod.getNodeSelector(), pod.getTolerations(), build);

        var knative = Manifests.one(Manifests.build(Manifests.ROOT.resolve("knative/" + target)),
                io.fabric8.knative.serving.v1.Service.class, Targets.name(target));
        RevisionSpec revision = knative.getSpec().getTemplate().getSpec();
        Container kc = revision.getContainers().get(0);
        // The same pod on both platforms, apart from port names and probe timing of Knative's own readiness.
        assertEquals(kc.getImage(), c.getImage());
        assertEquals(kc.getEnv(), c.getEnv());
        assertEquals(kc.getEnvFrom(), c.getEnvFrom());
        assertEquals(kc.getResources(), c.getResources());
        assertEquals(kc.getVolumeMounts(), c.getVolumeMounts());
        assertEquals(revision.getVolumes(), pod.getVolumes());
        assertEquals(revision.getNodeSelector(), pod.getNodeSelector());
        assertEquals(revision.getTolerations(), pod.getTolerations());
        assertEquals(budgetSeconds(kc.getStartupProbe()), budgetSeconds(c.getStartupProbe()));
        assertEquals(Manifests.one(Manifests.build(Manifests.ROOT.resolve("knative/" + target)), ConfigMap.class,
                Targets.name(target)).getData(), Manifests.one(build, ConfigMap.class, Targets.name(target)).getData());

        // Drain: a stopping pod must be allowed to finish the longest request the platform lets through.
        assertTrue(pod.getTerminationGracePeriodSeconds() >= revision.getTimeoutSeconds(),
                "terminationGracePeriodSeconds " + pod.getTerminationGracePeriodSeconds() + " shorter than the"
                        + " longest request (knative timeoutSeconds " + revision.getTimeoutSeconds() + ")");
        assertEquals(0, deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal(),
                "a rollout starts the new pod (and loads its model) before stopping an old one");

        String port = c.getPorts().get(0).getName();
        assertEquals(1, c.getPorts().size());
        for (Probe p : List.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe())) {
            assertEquals(port, p.getHttpGet().getPort().getStrVal());
        }
        Service service = Manifests.one(build, Service.class, Targets.name(target));
        assertEquals(podLabels, service.getSpec().getSelector());
        assertEquals(port, service.getSpec().getPorts().get(0).getTargetPort().getStrVal());
        PodDisruptionBudget pdb = Manifests.one(build, PodDisruptionBudget.class, Targets.name(target));
        assertEquals(podLabels, pdb.getSpec().getSelector().getMatchLabels());

        List<HorizontalPodAutoscaler> hpas = Manifests.all(build, HorizontalPodAutoscaler.class);
        if (target.equals("cpu")) {
            assertEquals(1, hpas.size());
            assertEquals(deployment.getMetadata().getName(), hpas.get(0).getSpec().getScaleTargetRef().getName());
            assertNull(deployment.getSpec().getReplicas(), "replicas belong to the HPA: re-applying would reset them");
        } else {
            assertEquals(List.of(), hpas, "CPU utilisation says nothing about an accelerator's load (k8s/README.md)");
        }
    }

    @Test
    void triggerDeliversGenerateEventsToAKnativeService() {
        List<Manifest> build = Manifests.build(Manifests.ROOT.resolve("knative/events"));
        Trigger trigger = Manifests.one(build, Trigger.class, "dit-fn-generate");
        Broker broker = Manifests.one(build, Broker.class, trigger.getSpec().getBroker());
        assertNotNull(broker);
        assertEquals(Map.of("type", ImageFunctions.EVENT_TYPE), trigger.getSpec().getFilter().getAttributes());
        var ref = trigger.getSpec().getSubscriber().getRef();
        assertEquals("serving.knative.dev/v1", ref.getApiVersion());
        assertEquals("Service", ref.getKind());
        String target = ref.getName().substring("dit-fn-".length());
        var service = Manifests.one(Manifests.build(Manifests.ROOT.resolve("knative/" + target)),
                io.fabric8.knative.serving.v1.Service.class, ref.getName());
        long coldRequest = budgetSeconds(service.getSpec().getTemplate().getSpec().getContainers().get(0)
                .getStartupProbe()) + service.getSpec().getTemplate().getSpec().getTimeoutSeconds();
        assertTrue(Duration.parse(trigger.getSpec().getDelivery().getTimeout()).toSeconds() >= coldRequest,
                "the delivery timeout must cover a cold start plus the longest generation: " + coldRequest + " s");
    }

    /** What both platforms must get right about the one container. */
    private static void checkContainer(String target, Container c, List<Volume> volumes,
            Map<String, String> nodeSelector, List<Toleration> tolerations, List<Manifest> build) {
        assertEquals(Targets.image(target), c.getImage());
        Path dockerfile = Manifests.ROOT.resolve("src/main/docker").resolve(Targets.DOCKERFILE.get(target));
        assertTrue(Files.isRegularFile(dockerfile), dockerfile + " builds " + c.getImage());

        Map<String, String> env = environment(c, build);
        assertEquals(target, env.get("QUARKUS_PROFILE"));
        assertTrue(Files.isRegularFile(Manifests.ROOT.resolve("config/application-" + target + ".properties")),
                "profile " + target + " has no config/application-" + target + ".properties");
        for (String var : env.keySet()) {
            assertTrue(var.equals("QUARKUS_PROFILE") || Targets.ditProperty(var).isPresent(),
                    var + " sets no dit.* configuration key");
        }

        assertEquals(STARTED, c.getStartupProbe().getHttpGet().getPath());
        assertEquals(READY, c.getReadinessProbe().getHttpGet().getPath());
        assertEquals(LIVE, c.getLivenessProbe().getHttpGet().getPath());
        assertEquals(Targets.effective("quarkus.http.port", target, env).map(Integer::valueOf).orElseThrow(),
                c.getPorts().get(0).getContainerPort(), "the container port is the application's");

        // Guaranteed QoS: requests equal limits, and ORT's pool has exactly the cores the pod may use.
        Map<String, Quantity> requests = c.getResources().getRequests();
        Map<String, Quantity> limits = c.getResources().getLimits();
        assertEquals(requests, limits);
        int cores = Integer.parseInt(limits.get("cpu").getAmount());
        assertEquals(Optional.of(String.valueOf(cores)), Targets.effective("dit.threads.intra-op", target, env),
                "dit.threads.intra-op must equal the CPU limit (0 would mean every core of the node)");
        assertEquals(Optional.of(String.valueOf(Targets.MAX_CONCURRENT.get(target))),
                Targets.effective("dit.serving.max-concurrent", target, env),
                "the application admits as many requests at once as containerConcurrency sends");
        String device = Targets.effective("dit.device", target, env).orElseThrow();
        String resource = Targets.DEVICE_RESOURCE.get(device);
        Set<String> accelerators = limits.keySet().stream().filter(r -> r.contains("/")).collect(Collectors.toSet());
        if (resource == null) {
            assertEquals(Set.of(), accelerators, "a " + device + " profile asks for no accelerator");
            assertTrue(nodeSelector == null || nodeSelector.isEmpty(), "no node selection for cpu");
            assertTrue(tolerations == null || tolerations.isEmpty(), "no tolerations for cpu");
        } else {
            assertEquals(Set.of(resource), accelerators);
            assertEquals("1", limits.get(resource).getAmount(), "one device per pod: containerConcurrency counts it");
            assertFalse(nodeSelector.isEmpty());
            assertEquals(resource, tolerations.get(0).getKey());
        }

        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        Map<String, Volume> byName = volumes.stream().collect(Collectors.toMap(Volume::getName, v -> v));
        Map<String, VolumeMount> mounts = c.getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getMountPath, m -> m));
        assertNotNull(byName.get(mounts.get("/tmp").getName()).getEmptyDir(), "/tmp must be a writable emptyDir");
        assertEquals(byName.keySet(),
                c.getVolumeMounts().stream().map(VolumeMount::getName).collect(Collectors.toSet()),
                "every volume mounted, every mount declared");

        String modelPath = env.get("DIT_MODEL_PATH");
        List<VolumeMount> modelMounts = c.getVolumeMounts().stream()
                .filter(m -> byName.get(m.getName()).getPersistentVolumeClaim() != null).toList();
        if (modelPath == null) {
            assertEquals(List.of(), modelMounts, "a model volume nobody reads (set DIT_MODEL_PATH)");
        } else {
            VolumeMount m = modelMounts.stream().filter(v -> modelPath.startsWith(v.getMountPath() + "/")).findFirst()
                    .orElseThrow(() -> new AssertionError("DIT_MODEL_PATH " + modelPath + " is on no model volume"));
            assertTrue(m.getReadOnly(), "the model volume is mounted read-only");
            var claim = byName.get(m.getName()).getPersistentVolumeClaim();
            assertTrue(claim.getReadOnly());
            assertNotNull(Manifests.one(build, PersistentVolumeClaim.class, claim.getClaimName()));
        }
    }

    /** The container's environment: its env entries and the ConfigMaps it takes whole, which must be in the build. */
    private static Map<String, String> environment(Container c, List<Manifest> build) {
        Map<String, String> env = new HashMap<>();
        for (EnvFromSource from : c.getEnvFrom()) {
            if (from.getConfigMapRef() != null) {
                assertFalse(Boolean.TRUE.equals(from.getConfigMapRef().getOptional()));
                env.putAll(Manifests.one(build, ConfigMap.class, from.getConfigMapRef().getName()).getData());
            } else {
                assertTrue(from.getSecretRef().getOptional(), "secrets are created by the operator, not applied here");
            }
        }
        for (EnvVar e : c.getEnv()) {
            assertNull(env.put(e.getName(), e.getValue()), e.getName() + " set twice");
        }
        return env;
    }

    private static long budgetSeconds(Probe p) {
        int delay = p.getInitialDelaySeconds() == null ? 0 : p.getInitialDelaySeconds();
        return delay + (long) p.getPeriodSeconds() * p.getFailureThreshold();
    }

    /** Knative's Go durations as used here: a number and s, m or h. */
    private static Duration goDuration(String s) {
        long n = Long.parseLong(s.substring(0, s.length() - 1));
        return switch (s.charAt(s.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("unexpected duration " + s);
        };
    }

    private static Path write(Path dir, String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static void assertRejected(Path dir, String name, String content, String mentioned) throws IOException {
        Path file = write(dir, name, content);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Manifests.read(file), name);
        assertTrue(e.getMessage().contains(mentioned), name + ": " + e.getMessage());
    }
}
