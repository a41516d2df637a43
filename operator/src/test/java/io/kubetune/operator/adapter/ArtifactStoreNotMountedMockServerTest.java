package io.kubetune.operator.adapter;

import static io.kubetune.operator.adapter.ServingHarness.adapter;
import static io.kubetune.operator.adapter.ServingHarness.arg;
import static io.kubetune.operator.adapter.ServingHarness.phase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default install: the operator pod does not mount any namespace's artifact store, so each
 * adapter folder is checked by a short check Job in the AdapterDeployment's namespace, and its
 * verdict decides, exactly as the in-process checks do, whether the adapter is registered.
 */
@EnableKubernetesMockClient(crud = true)
class ArtifactStoreNotMountedMockServerTest {
  private static final String NS = "team-b";
  private static final String STORE = "pvc://kubetune-artifacts/adapters/";

  KubernetesClient client;
  @TempDir Path artifacts;
  private ServingHarness h;

  @BeforeEach
  void start() {
    h = ServingHarness.withoutOperatorMount(client, artifacts);
  }

  @AfterEach
  void stop() {
    h.close();
  }

  private Job checkJobFor(String folder) {
    return h.awaitCheckJob(
        NS, "ad", "check Job of " + folder, j -> arg(j, "--dir").endsWith("/" + folder));
  }

  @Test
  void aCheckJobInTheNamespaceVetsTheAdapterThenItLoadsOnEveryReplica() {
    String digest = h.writeAdapter("a", 8, "a");
    h.create(AdapterDeployments.of(NS, "ad").replicas(2).path("a", "a").build());
    h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");
    h.readyPod(NS, "ad", "ad-1");

    Job job = checkJobFor("a");
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "waiting for the check",
            st ->
                phase(st, "a", AdapterPhase.Pending)
                    && "AdapterCheckPending".equals(adapter(st, "a").reason));
    assertTrue(adapter(s, "a").message.contains(job.getMetadata().getName()));
    assertTrue(h.fake("ad-0").adapters().isEmpty(), "nothing registered before the verdict");

    // What the check pod is: the trainer image's check-adapter on the read-only store, locked down.
    assertEquals("AdapterDeployment", job.getMetadata().getOwnerReferences().get(0).getKind());
    assertEquals(0, job.getSpec().getBackoffLimit());
    assertEquals(300L, job.getSpec().getActiveDeadlineSeconds());
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertEquals(false, pod.getAutomountServiceAccountToken());
    assertEquals("Never", pod.getRestartPolicy());
    assertEquals(true, pod.getSecurityContext().getRunAsNonRoot());
    assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
    Container c = pod.getContainers().get(0);
    assertEquals(FineTuneJobSettings.DEFAULT_IMAGE, c.getImage());
    assertEquals("check-adapter", c.getArgs().get(0));
    assertEquals("/artifacts/adapters/a", arg(job, "--dir"));
    assertEquals("64", arg(job, "--max-rank"));
    assertNull(arg(job, "--expect-digest"), "a path source has no recorded digest");
    assertEquals(true, c.getSecurityContext().getReadOnlyRootFilesystem());
    assertEquals(false, c.getSecurityContext().getAllowPrivilegeEscalation());
    assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
    assertEquals(c.getResources().getRequests(), c.getResources().getLimits());
    assertEquals(Set.of("cpu", "memory"), c.getResources().getLimits().keySet());
    VolumeMount store =
        c.getVolumeMounts().stream()
            .filter(m -> m.getMountPath().equals("/artifacts"))
            .findFirst()
            .orElseThrow();
    assertEquals(true, store.getReadOnly());
    Volume claim =
        pod.getVolumes().stream()
            .filter(v -> v.getName().equals(store.getName()))
            .findFirst()
            .orElseThrow();
    assertEquals("kubetune-artifacts", claim.getPersistentVolumeClaim().getClaimName());
    assertEquals(true, claim.getPersistentVolumeClaim().getReadOnly());

    assertTrue(h.runCheckPod(job).ok());
    s =
        h.awaitStatus(
            NS,
            "ad",
            "loaded after the verdict",
            st -> phase(st, "a", AdapterPhase.Loaded) && adapter(st, "a").loadedReplicas == 2);
    assertEquals(digest, adapter(s, "a").digest);
    assertEquals(Set.of("a"), h.fake("ad-0").adapters().keySet());
    assertEquals(Set.of("a"), h.fake("ad-1").adapters().keySet());
    assertEquals(
        "/artifacts/adapters/a", h.fake("ad-1").adapters().get("a").src(), "served from the store");

    // The verdict is kept: reconciles go on (1 s resync here) without a second check.
    String uid = job.getMetadata().getUid();
    sleep(Duration.ofSeconds(3));
    List<Job> jobs = h.checkJobs(NS, "ad");
    assertEquals(1, jobs.size(), "one check per adapter version");
    assertEquals(uid, jobs.get(0).getMetadata().getUid());
    assertTrue(phase(h.get(NS, "ad").getStatus(), "a", AdapterPhase.Loaded));
  }

  @Test
  void refusedAdaptersNameWhatToFixAndNothingIsRegistered() throws Exception {
    String code = h.writeAdapter("code", 8, "code");
    Files.writeString(artifacts.resolve("adapters/code/model.py"), "import os");
    String big = h.writeAdapter("big", 128, "big");
    h.writeAdapter("changed", 8, "changed");
    h.fineTuneJob(NS, "ft-code", Phase.Succeeded, STORE + "code", code);
    h.fineTuneJob(NS, "ft-big", Phase.Succeeded, STORE + "big", big);
    h.fineTuneJob(NS, "ft-changed", Phase.Succeeded, STORE + "changed", "sha256:" + "0".repeat(64));
    h.create(
        AdapterDeployments.of(NS, "ad")
            .job("code", "ft-code")
            .job("big", "ft-big")
            .job("changed", "ft-changed")
            .build());
    h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");

    for (String folder : List.of("code", "big", "changed")) {
      Job job = checkJobFor(folder);
      assertFalse(h.runCheckPod(job).ok());
    }
    assertEquals("sha256:" + "0".repeat(64), arg(checkJobFor("changed"), "--expect-digest"));
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "all refused",
            st ->
                phase(st, "code", AdapterPhase.Failed)
                    && phase(st, "big", AdapterPhase.Failed)
                    && phase(st, "changed", AdapterPhase.Failed));
    assertEquals("ExecutableCodeRefused", adapter(s, "code").reason);
    assertTrue(adapter(s, "code").message.contains("model.py"), adapter(s, "code").message);
    assertEquals("RankTooHigh", adapter(s, "big").reason);
    assertTrue(adapter(s, "big").message.contains("maxLoraRank"), adapter(s, "big").message);
    assertEquals("DigestMismatch", adapter(s, "changed").reason);
    assertTrue(
        adapter(s, "changed").message.contains("re-run the FineTuneJob"),
        adapter(s, "changed").message);
    assertTrue(h.fake("ad-0").adapters().isEmpty());

    // Pinned by a recorded digest, a refusal stands for that version: no re-check.
    sleep(Duration.ofSeconds(3));
    assertEquals(3, h.checkJobs(NS, "ad").size());
    assertTrue(h.fake("ad-0").adapters().isEmpty());
  }

  @Test
  void aCheckPodThatCannotRunSaysWhyAndIsRetriedWithBackoff() {
    h.writeAdapter("a", 8, "a");
    h.create(AdapterDeployments.of(NS, "ad").path("a", "a").build());
    h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");

    Job first = checkJobFor("a");
    h.unschedulableCheckPod(first, "0/3 nodes are available: 3 Insufficient memory.");
    AdapterDeploymentStatus s =
        h.awaitStatus(
            NS,
            "ad",
            "unschedulable check pod",
            st ->
                adapter(st, "a") != null
                    && adapter(st, "a").message != null
                    && adapter(st, "a").message.contains("Insufficient memory"));
    assertEquals("AdapterCheckPending", adapter(s, "a").reason);
    assertTrue(adapter(s, "a").message.contains("Unschedulable"), adapter(s, "a").message);

    h.crashCheckPod(first, "OOMKilled", "", "BackoffLimitExceeded");
    s =
        h.awaitStatus(
            NS,
            "ad",
            "check failed",
            st ->
                phase(st, "a", AdapterPhase.Failed)
                    && "AdapterCheckFailed".equals(adapter(st, "a").reason));
    assertTrue(adapter(s, "a").message.contains("OOMKilled"), adapter(s, "a").message);
    assertTrue(
        adapter(s, "a").message.contains("KUBETUNE_ADAPTER_CHECK_MEMORY"), adapter(s, "a").message);
    assertTrue(adapter(s, "a").message.contains("checked again in"), adapter(s, "a").message);
    assertTrue(h.fake("ad-0").adapters().isEmpty());

    // After the backoff the failed Job is replaced by a new one, whose verdict is used.
    String firstUid = first.getMetadata().getUid();
    Job second =
        h.awaitCheckJob(
            NS, "ad", "a new check Job", j -> !j.getMetadata().getUid().equals(firstUid));
    assertEquals(first.getMetadata().getName(), second.getMetadata().getName());
    assertTrue(h.runCheckPod(second).ok());
    h.awaitStatus(NS, "ad", "loaded after the retry", st -> phase(st, "a", AdapterPhase.Loaded));
    assertEquals(Set.of("a"), h.fake("ad-0").adapters().keySet());
  }

  @Test
  void aNewFineTuneJobAdapterIsCheckedAgainBeforeItRollsOut() {
    String v1 = h.writeAdapter("support-1", 8, "v1");
    h.fineTuneJob(NS, "support-ft", Phase.Succeeded, STORE + "support-1", v1);
    h.create(AdapterDeployments.of(NS, "ad").job("support", "support-ft").build());
    h.awaitDeployment(NS, "ad");
    h.readyPod(NS, "ad", "ad-0");

    Job first = checkJobFor("support-1");
    assertEquals(v1, arg(first, "--expect-digest"));
    h.runCheckPod(first);
    h.awaitStatus(NS, "ad", "v1 loaded", st -> phase(st, "support", AdapterPhase.Loaded));

    // The job is re-run and writes a new adapter: a new check, then the new version rolls out.
    String v2 = h.writeAdapter("support-2", 8, "v2");
    h.fineTuneJob(NS, "support-ft", Phase.Succeeded, STORE + "support-2", v2);
    Job second = checkJobFor("support-2");
    assertNotEquals(first.getMetadata().getName(), second.getMetadata().getName());
    assertEquals(v2, arg(second, "--expect-digest"));
    AdapterDeploymentStatus s = h.get(NS, "ad").getStatus();
    assertEquals(v1, adapter(s, "support").digest, "v1 stays until v2 is checked");
    h.runCheckPod(second);
    s =
        h.awaitStatus(
            NS,
            "ad",
            "v2 loaded",
            st ->
                phase(st, "support", AdapterPhase.Loaded)
                    && v2.equals(adapter(st, "support").digest));
    assertEquals(
        Set.of("support"),
        h.fake("ad-0").adapters().keySet().stream()
            .map(n -> n.startsWith("support") ? "support" : n)
            .collect(java.util.stream.Collectors.toSet()));
    // The check of the version no longer in use is deleted.
    org.awaitility.Awaitility.await("only v2's check left")
        .atMost(ServingHarness.TIMEOUT)
        .until(
            () -> h.checkJobs(NS, "ad").stream().map(j -> j.getMetadata().getName()).toList(),
            names -> names.equals(List.of(second.getMetadata().getName())));
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
