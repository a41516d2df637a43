package io.kubetune.operator.adapter;

import static io.kubetune.operator.adapter.ServingHarness.adapter;
import static io.kubetune.operator.adapter.ServingHarness.phase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator pod without the artifact store mounted says so per adapter and loads nothing. */
@EnableKubernetesMockClient(crud = true)
class ArtifactStoreNotMountedMockServerTest {
  KubernetesClient client;
  @TempDir Path tmp;
  private ServingHarness h;

  @BeforeEach
  void start() {
    h = new ServingHarness(client, tmp.resolve("not-mounted"));
  }

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void eachAdapterNamesTheMissingMountAndTheSetting() {
    h.create(AdapterDeployments.of("ns", "ad").path("a", "a").build());
    h.awaitDeployment("ns", "ad");
    h.readyPod("ns", "ad", "ad-0");
    AdapterDeploymentStatus s =
        h.awaitStatus("ns", "ad", "a failed", st -> phase(st, "a", AdapterPhase.Failed));
    assertEquals("ArtifactStoreNotMounted", adapter(s, "a").reason);
    assertTrue(
        adapter(s, "a").message.contains("KUBETUNE_ARTIFACTS_ROOT"), adapter(s, "a").message);
    assertTrue(h.fake("ad-0").adapters().isEmpty());
  }
}
