package io.kubetune.operator.adapter;

import static io.kubetune.operator.adapter.ServingHarness.adapter;
import static io.kubetune.operator.adapter.ServingHarness.condition;
import static io.kubetune.operator.adapter.ServingHarness.phase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way the serving side can fail ends in a per-adapter status a user can act on, and clears
 * when the fault does; invalid adapters and specs are refused with the field and the fix.
 */
@EnableKubernetesMockClient(crud = true)
class AdapterDeploymentFailuresMockServerTest {
  private static final String NS = "team-b";

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

  private void twoAdaptersOnTwoPods(
      java.util.function.Consumer<io.kubetune.operator.modelserver.FakeDjlServing> pod1) {
    h.writeAdapter("a", 8, "a");
    h.writeAdapter("b", 8, "b");
    h.create(AdapterDeployments.of(NS, "ad").replicas(2).path("a", "a").path("b", "b").build());
    h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");
    h.readyPod(NS, "ad", "ad-1", pod1);
  }

  private AdapterDeploymentStatus awaitAllLoaded() {
    return h.awaitStatus(
        NS,
        "ad",
        "every adapter loaded on both pods",
        st ->
            "2/2".equals(st.loadedAdapters)
                && st.adapters.stream().allMatch(a -> a.loadedReplicas == 2)
                && "True/Serving".equals(condition(st, Conditions.READY)));
  }

  @Test
  void noFreeLoraSlotsFailsTheAdapterUntilSlotsAreFree() {
    twoAdaptersOnTwoPods(f -> f.maxLoras(1));
    AdapterDeploymentStatus s =
        h.awaitStatus(NS, "ad", "b failed on ad-1", st -> phase(st, "b", AdapterPhase.Failed));
    AdapterState b = adapter(s, "b");
    assertEquals("NoFreeLoraSlots", b.reason);
    assertTrue(b.message.startsWith("ad-1: "), b.message);
    assertTrue(b.message.contains("maxLoras"), b.message);
    assertEquals(1, b.loadedReplicas);
    assertEquals("True/NoFreeLoraSlots", condition(s, Conditions.STALLED));
    assertEquals("True/AdapterFailed", condition(s, Conditions.DEGRADED));
    assertEquals("False/NoFreeLoraSlots", condition(s, Conditions.ADAPTERS_READY));
    assertEquals("1/2", s.loadedAdapters);

    h.fake("ad-1").maxLoras(8);
    s = awaitAllLoaded();
    assertEquals("False/Progressing", condition(s, Conditions.STALLED));
  }

  @Test
  void aFailedLoadIsReportedAndRetriedUntilItWorks() {
    twoAdaptersOnTwoPods(f -> f.failLoadsOf("a"));
    AdapterDeploymentStatus s =
        h.awaitStatus(NS, "ad", "a failed", st -> phase(st, "a", AdapterPhase.Failed));
    assertEquals("AdapterLoadFailed", adapter(s, "a").reason);
    assertTrue(adapter(s, "a").message.startsWith("ad-1: "), adapter(s, "a").message);
    assertTrue(phase(s, "b", AdapterPhase.Loaded), "b is unaffected");

    h.fake("ad-1").clearLoadFailures();
    awaitAllLoaded();
  }

  @Test
  void aRegistrationAnsweredBeforeTheLoadIsStagingUntilInferenceConfirmsIt() {
    twoAdaptersOnTwoPods(f -> f.asyncLoads(true));
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "registered, not confirmed",
            st ->
                phase(st, "a", AdapterPhase.Staging)
                    && "AdapterNotReady".equals(adapter(st, "a").reason));
    assertEquals(1, adapter(s, "a").loadedReplicas);
    assertEquals("False/Progressing", condition(s, Conditions.STALLED));
    assertEquals("True/Progressing", condition(s, Conditions.RECONCILING));

    h.fake("ad-1").finishLoading();
    awaitAllLoaded();
  }

  @Test
  void anUnreachablePodIsReportedAndCatchesUpWhenItAnswersAgain() throws IOException {
    twoAdaptersOnTwoPods(f -> {});
    awaitAllLoaded();
    h.fake("ad-1").stopListening();
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "ad-1 unreachable",
            st ->
                "ServerUnreachable".equals(adapter(st, "a").reason)
                    && adapter(st, "a").loadedReplicas == 1);
    assertTrue(adapter(s, "a").message.startsWith("ad-1: "), adapter(s, "a").message);
    assertNotEquals(AdapterPhase.Loaded, adapter(s, "a").phase);
    // Transient: nothing for the user to do.
    assertEquals("False/Progressing", condition(s, Conditions.STALLED));

    h.fake("ad-1").startListening();
    awaitAllLoaded();
  }

  @Test
  void aPodWhoseBaseModelIsStillLoadingIsLeftAloneUntilHealthy() {
    twoAdaptersOnTwoPods(f -> f.modelStatus("PENDING"));
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "base model loading on ad-1",
            st -> "False/BaseModelLoading".equals(condition(st, Conditions.BASE_MODEL_READY)));
    assertTrue(
        s.conditions.stream()
            .anyMatch(c -> c.getMessage().contains("ad-1") && c.getMessage().contains("PENDING")),
        s.conditions.toString());
    assertTrue(h.fake("ad-1").adapters().isEmpty(), "nothing registered on a loading pod");

    h.fake("ad-1").modelStatus("Healthy");
    s = awaitAllLoaded();
    assertEquals("True/BaseModelLoaded", condition(s, Conditions.BASE_MODEL_READY));
  }

  @Test
  void aSlowLoadIsReportedWithItsLoadTime() {
    twoAdaptersOnTwoPods(f -> f.loadDelay(Duration.ofSeconds(2)));
    AdapterDeploymentStatus s = awaitAllLoaded();
    assertTrue(adapter(s, "a").loadSeconds >= 2.0, "loadSeconds " + adapter(s, "a").loadSeconds);
  }

  @Test
  void invalidAdaptersAreRefusedWithReasonsAndLoadOnceFixed() throws IOException {
    h.writeAdapter("good", 8, "good");
    h.writeAdapter("big", 128, "big");
    h.writeAdapter("code", 8, "code");
    Files.writeString(artifacts.resolve("adapters/code/model.py"), "import os\n");
    h.writeAdapter("dora", 8, "dora", Map.of("use_dora", "true"));
    h.create(
        AdapterDeployments.of(NS, "ad")
            .replicas(1)
            .maxLoraRank(64)
            .path("good", "good")
            .path("big", "big")
            .path("code", "code")
            .path("dora", "dora")
            .path("missing", "missing")
            .rawPath("elsewhere", "pvc://other-claim/adapters/x")
            .build());
    h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");
    AdapterDeploymentStatus s =
        h.awaitStatus(NS, "ad", "good loaded", st -> phase(st, "good", AdapterPhase.Loaded));
    Map<String, String> expected =
        Map.of(
            "big", "RankTooHigh",
            "code", "ExecutableCodeRefused",
            "dora", "DoraNotSupported",
            "missing", "AdapterFolderMissing",
            "elsewhere", "AdapterNotOnArtifactStore");
    expected.forEach(
        (name, reason) -> {
          AdapterState a = adapter(s, name);
          assertEquals(AdapterPhase.Failed, a.phase, name);
          assertEquals(reason, a.reason, name + ": " + a.message);
          assertEquals(0, a.loadedReplicas, name);
        });
    assertTrue(adapter(s, "elsewhere").message.contains("pvc://kubetune-artifacts/"));
    assertEquals(Set.of("good"), h.fake("ad-0").adapters().keySet());
    assertEquals("1/6", s.loadedAdapters);
    assertEquals("True/RankTooHigh", condition(s, Conditions.STALLED));
    assertEquals("True/AdapterFailed", condition(s, Conditions.DEGRADED));

    // The user retrains with a smaller rank: the adapter is checked again and loaded.
    h.writeAdapter("big", 8, "big-r8");
    h.awaitStatus(NS, "ad", "big loaded", st -> phase(st, "big", AdapterPhase.Loaded));
    Awaitility.await()
        .atMost(ServingHarness.TIMEOUT)
        .until(() -> h.fake("ad-0").adapters().keySet().equals(Set.of("good", "big")));
  }

  @Test
  void anInvalidSpecIsAConditionNamingTheFieldAndNeverTouchesServing() {
    h.writeAdapter("a", 8, "a");
    h.create(AdapterDeployments.of(NS, "ad").maxLoraRank(48).path("a", "a").path("a", "a").build());
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "stalled on the spec",
            st -> "True/SpecInvalid".equals(condition(st, Conditions.STALLED)));
    String message =
        s.conditions.stream()
            .filter(c -> c.getType().equals(Conditions.STALLED))
            .findFirst()
            .orElseThrow()
            .getMessage();
    assertTrue(message.contains("spec.lora.maxLoraRank: 48 is not a rank vLLM accepts"), message);
    assertTrue(message.contains("spec.adapters[1].name: adapter 'a' is listed twice"), message);
    assertEquals("False/SpecInvalid", condition(s, Conditions.READY));
    assertNull(client.apps().deployments().inNamespace(NS).withName("ad").get());

    // Fixing the rank serves; the duplicate entry stays reported.
    h.edit(NS, "ad", ad -> ad.getSpec().lora.maxLoraRank = 64);
    Deployment deployment = h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");
    s = h.awaitStatus(NS, "ad", "a loaded", st -> phase(st, "a", AdapterPhase.Loaded));
    assertEquals("True/SpecInvalid", condition(s, Conditions.STALLED));

    // Breaking the serving config later leaves the running Deployment as it was.
    h.edit(NS, "ad", ad -> ad.getSpec().lora.maxCpuLoras = 1);
    h.edit(NS, "ad", ad -> ad.getSpec().lora.maxLoras = 2);
    s =
        h.awaitStatus(
            NS,
            "ad",
            "maxCpuLoras reported",
            st ->
                st.conditions.stream()
                    .anyMatch(c -> c.getMessage().contains("spec.lora.maxCpuLoras")));
    assertEquals(
        deployment.getSpec().getTemplate(),
        client.apps().deployments().inNamespace(NS).withName("ad").get().getSpec().getTemplate());
    assertTrue(phase(s, "a", AdapterPhase.Loaded), "adapters keep serving");
  }
}
