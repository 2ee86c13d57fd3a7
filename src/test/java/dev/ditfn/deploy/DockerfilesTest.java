package dev.ditfn.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the images must get right for the manifests to work, read from the Dockerfiles (no container engine needed;
 * tools/container/smoke.sh runs the cpu image for real): a numeric non-root user (kubelet can only verify
 * runAsNonRoot for a numeric one), ORT's natives extracted at build time into the folder the entry point names as
 * onnxruntime.native.path, an AppCDS archive recorded by the image's own JVM, config/ in the working directory, the
 * application's port, writes only under /tmp (the one writable mount), build-context sources that exist and that
 * .dockerignore lets through, pinned base images.
 */
class DockerfilesTest {
    private static final Path DOCKER = Manifests.ROOT.resolve("src/main/docker");
    private static final Pattern NATIVE_PATH = Pattern.compile("-Donnxruntime\\.native\\.path=(\\S+?)[\"\\s]");
    private static final Pattern ARCHIVE = Pattern.compile("-XX:SharedArchiveFile=(\\S+?)[\"\\s]");
    private static final Pattern BIND_SOURCE = Pattern.compile("--mount=type=bind,source=([^,\\s]+)");

    record Instruction(String keyword, String args) {
    }

    record Stage(String base, String name, List<Instruction> instructions) {
        List<String> args(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
        }

        String last(String keyword) {
            List<String> all = args(keyword);
            assertFalse(all.isEmpty(), "no " + keyword + " in stage " + base);
            return all.get(all.size() - 1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile.jvm", "Dockerfile.cuda", "Dockerfile.ascend"})
    void imageFitsTheManifests(String dockerfile) throws IOException {
        List<String> globalArgs = new ArrayList<>();
        List<Stage> stages = parse(Files.readString(DOCKER.resolve(dockerfile)), globalArgs);
        Stage run = stages.get(stages.size() - 1);

        String user = run.last("USER");
        assertTrue(user.matches("[0-9]+") && !user.equals("0"), "USER must be a numeric non-root id, was " + user);

        List<String> entrypoint = new ObjectMapper().readValue(run.last("ENTRYPOINT"), new TypeReference<>() { });
        String command = String.join(" ", entrypoint) + " ";
        assertTrue(command.contains("-jar /deployments/quarkus-app/quarkus-run.jar"), command);
        Matcher m = NATIVE_PATH.matcher(command);
        assertTrue(m.find(), "the entry point must set onnxruntime.native.path: " + command);
        String nativeDir = m.group(1);
        Stage build = stages.stream().filter(s -> "build".equals(s.name())).findFirst().orElseThrow();
        assertTrue(build.args("RUN").stream().anyMatch(r -> r.contains("jar xf") && r.contains(nativeDir + "/")),
                "the build stage extracts ORT's natives into " + nativeDir);
        assertTrue(run.args("COPY").contains("--from=build /deployments/ /deployments/")
                && nativeDir.startsWith("/deployments/"), "the natives reach the final image");

        // AppCDS: the archive the entry point names is recorded by the final stage's own JVM.
        Matcher a = ARCHIVE.matcher(command);
        assertTrue(a.find(), "the entry point must use the AppCDS archive: " + command);
        String archive = a.group(1);
        assertTrue(run.args("RUN").stream().anyMatch(r -> r.contains("appcds.sh " + archive + " ")),
                "the final stage records " + archive + " with appcds.sh");

        String workdir = run.last("WORKDIR");
        assertTrue(run.args("COPY").contains("config/ " + workdir + "/config/"),
                "config/ must be copied into the working directory, where the application looks for it");
        String port = Targets.properties(Path.of("src/main/resources/application.properties")).get("quarkus.http.port");
        assertEquals(port, run.last("EXPOSE"));
        String env = String.join(" ", run.args("ENV"));
        assertTrue(env.contains("XDG_CACHE_HOME=/tmp/"), "caches must go to /tmp, the only writable mount");

        for (Stage s : stages) {
            for (String copy : s.args("COPY")) {
                if (!copy.startsWith("--from=")) {
                    checkContextSource(copy.split("\\s+")[0], dockerfile);
                }
            }
            for (String r : s.args("RUN")) {
                for (Matcher b = BIND_SOURCE.matcher(r); b.find(); ) {
                    checkContextSource(b.group(1), dockerfile);
                }
            }
        }
        for (String arg : globalArgs) {
            if (arg.endsWith("_IMAGE") || arg.contains("_IMAGE=")) {
                String image = arg.substring(arg.indexOf('=') + 1);
                assertTrue(image.matches("[a-z0-9.-]+/[a-z0-9./-]+:[A-Za-z0-9._-]+") && !image.endsWith(":latest"),
                        "base images are named in full with a fixed tag: " + arg);
            }
        }
        switch (dockerfile) {
            case "Dockerfile.jvm" -> {
                String model = build.args("RUN").stream().filter(r -> r.contains("write-model")).findFirst()
                        .orElseThrow().replaceAll(".*\\s", "");
                assertTrue(env.contains("DIT_MODEL_PATH=" + model), "the baked model is the one served");
            }
            case "Dockerfile.cuda" -> assertTrue(String.join(" ", build.args("RUN")).contains("onnxruntime_gpu-"),
                    "the CUDA image takes the natives of ORT's GPU build");
            case "Dockerfile.ascend" -> assertTrue(build.args("ARG").contains("ORT_CANN_JAR"),
                    "the ORT build with CANN is a build argument");
            default -> throw new AssertionError(dockerfile);
        }
    }

    /** A build-context path must exist (target/quarkus-app after the package build) and pass .dockerignore. */
    private static void checkContextSource(String source, String dockerfile) throws IOException {
        if (source.startsWith("${")) {
            return; // a build argument (the Ascend ORT jar), checked by the build itself
        }
        String path = source.replaceAll("/$", "");
        assertTrue(path.equals("target/quarkus-app") || Files.exists(Manifests.ROOT.resolve(path)),
                dockerfile + " copies " + source + ", which is not in the repository");
        boolean excluded = false;
        for (String rule : Files.readAllLines(Manifests.ROOT.resolve(".dockerignore"))) {
            if (rule.isBlank() || rule.startsWith("#")) {
                continue;
            }
            boolean negated = rule.startsWith("!");
            String glob = negated ? rule.substring(1) : rule;
            if (FileSystems.getDefault().getPathMatcher("glob:" + glob).matches(Path.of(path))) {
                excluded = !negated;
            }
        }
        assertFalse(excluded, ".dockerignore keeps " + source + " out of the build context of " + dockerfile);
    }

    /** Instructions per stage; continuation lines joined, comments dropped; ARGs before the first FROM apart. */
    private static List<Stage> parse(String text, List<String> globalArgs) {
        List<Stage> stages = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String raw : text.split("\n")) {
            String t = raw.strip();
            if (t.startsWith("#") || (t.isEmpty() && line.isEmpty())) {
                continue;
            }
            if (t.endsWith("\\")) {
                line.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            line.append(t);
            String full = line.toString().strip();
            line.setLength(0);
            String keyword = full.split("\\s+", 2)[0].toUpperCase();
            String args = full.substring(keyword.length()).strip().replaceAll("\\s+", " ");
            if (keyword.equals("FROM")) {
                String[] parts = args.split(" ");
                stages.add(new Stage(parts[0], parts.length == 3 ? parts[2] : null, new ArrayList<>()));
            } else if (stages.isEmpty()) {
                assertEquals("ARG", keyword, "only ARG may come before the first FROM");
                globalArgs.add(args);
            } else {
                stages.get(stages.size() - 1).instructions().add(new Instruction(keyword, args));
            }
        }
        assertNotEquals(0, stages.size());
        return stages;
    }
}
