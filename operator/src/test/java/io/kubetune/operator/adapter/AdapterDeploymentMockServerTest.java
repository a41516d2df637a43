package io.kubetune.operator.adapter;

import static io.kubetune.operator.adapter.ServingHarness.adapter;
import static io.kubetune.operator.adapter.ServingHarness.condition;
import static io.kubetune.operator.adapter.ServingHarness.phase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.modelserver.FakeDjlServing;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AdapterDeployments end to end through the real reconciler on the mock server, with one fake DJL
 * Serving per pod: adapters come and go on every ready replica without touching the pods.
 */
@EnableKubernetesMockClient(crud = true)
class AdapterDeploymentMockServerTest {
  private static final String NS = "team-a";

  KubernetesClient client;
  @TempDir Path artifacts;
  private ServingHarness h;

  @BeforeEach
  void start() {
    h = new ServingHarness(client, artifacts);
  }

  @AfterEach
  void stop() {
    h.close();
  }

  private static String hex8(String digest) {
    return digest.substring("sha256:".length(), "sha256:".length() + 8);
  }

  private Set<String> namesOn(String pod) {
    return h.fake(pod).adapters().keySet();
  }

  private Map<String, String> podUids() {
    return client.pods().inNamespace(NS).list().getItems().stream()
        .collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getUid()));
  }

  @Test
  void addsReplacesAndRemovesAdaptersOnThreeReplicasWithoutTouchingThePods() {
    String digestA = h.writeAdapter("a-v1", 8, "a1");
    h.writeAdapter("b", 8, "b");
    h.writeAdapter("c", 16, "c");
    h.create(
        AdapterDeployments.of(NS, "chat").replicas(3).path("a", "a-v1").path("b", "b").build());
    Deployment deployment = h.awaitDeployment(NS, "chat");
    for (int i = 0; i < 3; i++) {
      h.readyPod(NS, "chat", "chat-" + i);
    }

    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "chat",
            "a and b Loaded on 3 pods",
            st -> "2/2".equals(st.loadedAdapters) && Integer.valueOf(3).equals(st.readyReplicas));
    for (int i = 0; i < 3; i++) {
      assertEquals(Set.of("a", "b"), namesOn("chat-" + i));
      assertEquals("/artifacts/adapters/a-v1", h.fake("chat-" + i).adapters().get("a").src());
    }
    AdapterState a = adapter(s, "a");
    assertEquals(3, a.loadedReplicas);
    assertEquals(3, a.desiredReplicas);
    assertEquals("a", a.servedName);
    assertEquals(digestA, a.digest);
    assertNotNull(a.lastLoadTime);
    assertNotNull(a.loadSeconds);
    assertEquals(Boolean.FALSE, a.pinned);
    assertEquals("http://chat.team-a.svc:8080", s.url);
    h.awaitStatus(
        NS,
        "chat",
        "Ready",
        st ->
            "True/Serving".equals(condition(st, Conditions.READY))
                && "True/AllAdaptersLoaded".equals(condition(st, Conditions.ADAPTERS_READY))
                && "True/BaseModelLoaded".equals(condition(st, Conditions.BASE_MODEL_READY))
                && "False/Serving".equals(condition(st, Conditions.DEGRADED))
                && "False/Serving".equals(condition(st, Conditions.RECONCILING))
                && "False/Progressing".equals(condition(st, Conditions.STALLED)));
    Map<String, String> uids = podUids();

    // Replace a with a new version, remove b, add c (pinned).
    String digestA2 = h.writeAdapter("a-v2", 8, "a2");
    h.edit(
        NS,
        "chat",
        ad -> {
          ad.getSpec().adapters.get(0).source.path = "pvc://kubetune-artifacts/adapters/a-v2";
          ad.getSpec().adapters.remove(1);
          AdapterEntry c = new AdapterEntry();
          c.name = "c";
          c.source = new io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterSource();
          c.source.path = "pvc://kubetune-artifacts/adapters/c";
          c.pin = true;
          ad.getSpec().adapters.add(c);
        });
    String a2 = "a-" + hex8(digestA2);
    s =
        h.awaitStatus(
            NS,
            "chat",
            "a replaced by " + a2 + ", b removed, c loaded",
            st ->
                adapter(st, "a") != null
                    && a2.equals(adapter(st, "a").servedName)
                    && phase(st, "c", AdapterPhase.Loaded)
                    && adapter(st, "b") == null
                    && "2/2".equals(st.loadedAdapters));
    assertEquals(digestA2, adapter(s, "a").digest);
    assertEquals(Boolean.TRUE, adapter(s, "c").pinned);
    for (int i = 0; i < 3; i++) {
      String pod = "chat-" + i;
      // Old version and removed adapter are gone once the new version is everywhere.
      org.awaitility.Awaitility.await()
          .atMost(ServingHarness.TIMEOUT)
          .until(() -> namesOn(pod).equals(Set.of(a2, "c")));
      assertTrue(h.fake(pod).adapters().get("c").pin(), "c registered pinned on " + pod);
      assertTrue(h.fake(pod).changes.contains("unregister b"), h.fake(pod).changes.toString());
      // New version registered before the old one went away: callers never lose the adapter.
      List<String> changes = h.fake(pod).changes;
      assertTrue(
          changes.indexOf("register " + a2) < changes.indexOf("unregister a"), changes.toString());
    }

    // The pods were never touched: same template, same generation, same pods.
    Deployment after = client.apps().deployments().inNamespace(NS).withName("chat").get();
    assertEquals(deployment.getSpec().getTemplate(), after.getSpec().getTemplate());
    assertEquals(deployment.getMetadata().getGeneration(), after.getMetadata().getGeneration());
    assertEquals(uids, podUids());
    String template = after.getSpec().getTemplate().toString();
    assertFalse(template.contains("a-v2") || template.contains("adapters/"), template);
  }

  @Test
  void aRestartedPodGetsItsAdaptersBack() {
    h.writeAdapter("a", 8, "a");
    h.writeAdapter("b", 8, "b");
    h.create(AdapterDeployments.of(NS, "chat").replicas(2).path("a", "a").path("b", "b").build());
    h.awaitDeployment(NS, "chat");
    h.readyPod(NS, "chat", "chat-0");
    h.readyPod(NS, "chat", "chat-1");
    h.awaitStatus(
        NS,
        "chat",
        "loaded",
        st -> "2/2".equals(st.loadedAdapters) && adapter(st, "a").loadedReplicas == 2);
    int registersBefore = h.fake("chat-1").registers.get();

    // The container restarts: DJL Serving comes back without its runtime registrations.
    h.fake("chat-1").restart();
    h.containerRestarted(NS, "chat-1");
    org.awaitility.Awaitility.await("re-registered on chat-1")
        .atMost(ServingHarness.TIMEOUT)
        .until(() -> namesOn("chat-1").equals(Set.of("a", "b")));
    assertEquals(registersBefore + 2, h.fake("chat-1").registers.get());
    h.awaitStatus(
        NS,
        "chat",
        "loaded again",
        st ->
            "2/2".equals(st.loadedAdapters)
                && adapter(st, "a").loadedReplicas == 2
                && adapter(st, "b").loadedReplicas == 2);

    // A Python worker restart Kubernetes does not see is found by the periodic listing.
    h.fake("chat-0").restart();
    org.awaitility.Awaitility.await("re-registered on chat-0")
        .atMost(ServingHarness.TIMEOUT)
        .until(() -> namesOn("chat-0").equals(Set.of("a", "b")));
  }

  @Test
  void scalingFromOneToFourBringsNewPodsToTheFullAdapterSet() {
    h.writeAdapter("a", 8, "a");
    h.writeAdapter("b", 8, "b");
    h.create(AdapterDeployments.of(NS, "chat").replicas(1).path("a", "a").path("b", "b").build());
    Deployment before = h.awaitDeployment(NS, "chat");
    h.readyPod(NS, "chat", "chat-0");
    h.awaitStatus(NS, "chat", "loaded on 1", st -> "2/2".equals(st.loadedAdapters));

    h.edit(NS, "chat", ad -> ad.getSpec().replicas = 4);
    org.awaitility.Awaitility.await("Deployment scaled")
        .atMost(ServingHarness.TIMEOUT)
        .until(
            () ->
                client
                        .apps()
                        .deployments()
                        .inNamespace(NS)
                        .withName("chat")
                        .get()
                        .getSpec()
                        .getReplicas()
                    == 4);
    AdapterDeploymentStatus degraded =
        h.awaitStatus(
            NS,
            "chat",
            "degraded while scaling",
            st -> "True/ReplicasUnavailable".equals(condition(st, Conditions.DEGRADED)));
    assertEquals("False/ReplicasUnavailable", condition(degraded, Conditions.READY));
    for (int i = 1; i < 4; i++) {
      h.readyPod(NS, "chat", "chat-" + i);
    }
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "chat",
            "loaded on 4",
            st ->
                st.adapters.stream().allMatch(a -> a.loadedReplicas == 4)
                    && "True/Serving".equals(condition(st, Conditions.READY)));
    assertEquals(4, s.readyReplicas);
    for (int i = 0; i < 4; i++) {
      assertEquals(Set.of("a", "b"), namesOn("chat-" + i));
    }
    Deployment after = client.apps().deployments().inNamespace(NS).withName("chat").get();
    assertEquals(before.getSpec().getTemplate(), after.getSpec().getTemplate());
  }

  @Test
  void fineTuneJobHandoffRollsOutEachNewAdapterVersion() {
    h.create(AdapterDeployments.of(NS, "chat").replicas(2).job("support", "support-ft").build());
    h.awaitDeployment(NS, "chat");
    h.readyPod(NS, "chat", "chat-0");
    h.readyPod(NS, "chat", "chat-1");

    AdapterDeploymentStatus s =
        h.awaitStatus(NS, "chat", "unknown job", st -> phase(st, "support", AdapterPhase.Failed));
    assertEquals("FineTuneJobNotFound", adapter(s, "support").reason);
    assertTrue(adapter(s, "support").message.contains("support-ft"), adapter(s, "support").message);
    assertEquals("True/FineTuneJobNotFound", condition(s, Conditions.STALLED));

    h.fineTuneJob(NS, "support-ft", Phase.Running, null, null);
    s =
        h.awaitStatus(
            NS, "chat", "waiting for the job", st -> phase(st, "support", AdapterPhase.Pending));
    assertEquals("WaitingForFineTuneJob", adapter(s, "support").reason);
    assertEquals("False/Progressing", condition(s, Conditions.STALLED));
    assertTrue(namesOn("chat-0").isEmpty());

    String v1 = h.writeAdapter("support-ft", 8, "v1");
    h.fineTuneJob(
        NS, "support-ft", Phase.Succeeded, "pvc://kubetune-artifacts/adapters/support-ft", v1);
    s =
        h.awaitStatus(
            NS,
            "chat",
            "job's adapter loaded",
            st ->
                phase(st, "support", AdapterPhase.Loaded)
                    && adapter(st, "support").loadedReplicas == 2);
    assertEquals("support", adapter(s, "support").servedName);
    assertEquals(v1, adapter(s, "support").digest);
    assertEquals(Set.of("support"), namesOn("chat-1"));

    // The job is re-run and writes a new adapter: the new version rolls out under a new name.
    String v2 = h.writeAdapter("support-ft-2", 8, "v2");
    h.fineTuneJob(
        NS, "support-ft", Phase.Succeeded, "pvc://kubetune-artifacts/adapters/support-ft-2", v2);
    String served = "support-" + hex8(v2);
    s =
        h.awaitStatus(
            NS,
            "chat",
            "new version served",
            st ->
                served.equals(adapter(st, "support").servedName)
                    && phase(st, "support", AdapterPhase.Loaded));
    assertEquals(v2, adapter(s, "support").digest);
    for (String pod : List.of("chat-0", "chat-1")) {
      org.awaitility.Awaitility.await()
          .atMost(ServingHarness.TIMEOUT)
          .until(() -> namesOn(pod).equals(Set.of(served)));
      assertEquals("/artifacts/adapters/support-ft-2", h.fake(pod).adapters().get(served).src());
    }
  }

  @Test
  void operatorRestartKeepsServingTheSameVersionWithoutReloading() {
    h.writeAdapter("a", 8, "a");
    h.create(AdapterDeployments.of(NS, "chat").replicas(1).path("a", "a").build());
    h.awaitDeployment(NS, "chat");
    h.readyPod(NS, "chat", "chat-0");
    h.awaitStatus(NS, "chat", "loaded", st -> phase(st, "a", AdapterPhase.Loaded));
    FakeDjlServing fake = h.fake("chat-0");
    int registers = fake.registers.get();

    h.stop();
    h.start();
    // The restarted operator re-learns from status that "a" is this digest and only re-probes.
    h.awaitStatus(NS, "chat", "still loaded", st -> phase(st, "a", AdapterPhase.Loaded));
    org.awaitility.Awaitility.await()
        .atMost(ServingHarness.TIMEOUT)
        .until(() -> fake.invocations.get() >= 2);
    assertEquals(registers, fake.registers.get());
    assertEquals(Set.of("a"), namesOn("chat-0"));
    Pod pod = client.pods().inNamespace(NS).withName("chat-0").get();
    assertNull(pod.getMetadata().getDeletionTimestamp());
  }
}
