package dev.ditfn.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static dev.ditfn.app.health.HealthPolling.awaitReady;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The probes of every manifest, asked of the running application: each path exists and answers UP once loaded. */
@QuarkusTest
class ManifestsAppTest {

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        awaitReady();
    }

    private static List<Container> containers() {
        List<Container> all = new ArrayList<>();
        for (String target : Targets.ALL) {
            all.add(Manifests.one(Manifests.build(Manifests.ROOT.resolve("knative/" + target)),
                    io.fabric8.knative.serving.v1.Service.class, Targets.name(target))
                    .getSpec().getTemplate().getSpec().getContainers().get(0));
            all.add(Manifests.one(Manifests.build(Manifests.ROOT.resolve("k8s/" + target)), Deployment.class,
                    Targets.name(target)).getSpec().getTemplate().getSpec().getContainers().get(0));
        }
        return all;
    }

    @Test
    void everyProbeAnswersUpOnceTheModelIsLoaded() {
        Set<String> paths = new TreeSet<>();
        for (Container c : containers()) {
            for (Probe p : List.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe())) {
                paths.add(p.getHttpGet().getPath());
            }
        }
        assertEquals(Set.of("/q/health/live", "/q/health/ready", "/q/health/started"), paths);
        for (String path : paths) {
            given().get(path).then().statusCode(200).body("status", equalTo("UP"));
        }
    }
}
