package io.kubetune.operator.finetune;

import static io.kubetune.operator.finetune.Cluster.is;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerStage;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.api.v1alpha1.Reasons;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Suspend/resume, Kueue, ownership, operator restarts and many jobs at once. */
@EnableKubernetesMockClient(crud = true)
class FineTuneJobLifecycleMockServerTest {
  private static final String NS = "team-c";

  KubernetesClient client;
  private OperatorHarness harness;
  private Cluster cluster;

  @BeforeEach
  void start() {
    harness = new OperatorHarness(client);
    cluster = harness.cluster;
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void suspendStopsTheTrainerAndResumeStartsOneThatResumesFromCheckpoints() {
    Job first = harness.toTrainer(FineTuneJobs.lora(NS, "pausable").build());
    cluster.jobStatus(first, 1, 0, null, null);
    cluster.runningPod(first, "a");
    cluster.awaitPhase(NS, "pausable", Phase.Running);
    cluster.writeProgress(NS, "pausable", progressAt(100));
    cluster.awaitStatus(NS, "pausable", s -> s.checkpoints != null && !s.checkpoints.isEmpty());

    cluster.editSpec(NS, "pausable", j -> j.getSpec().suspend = true);
    cluster.awaitJobGone(NS, "pausable-trainer");
    FineTuneJob suspended = cluster.awaitPhase(NS, "pausable", Phase.Suspended);
    assertTrue(is(suspended.getStatus(), Conditions.SUSPENDED, Conditions.TRUE));
    assertTrue(is(suspended.getStatus(), Conditions.STALLED, Conditions.FALSE));
    assertEquals(1, suspended.getStatus().checkpoints.size(), "checkpoints survive a suspend");

    cluster.editSpec(NS, "pausable", j -> j.getSpec().suspend = false);
    Job second =
        await()
            .atMost(Cluster.TIMEOUT)
            .until(
                () -> cluster.job(NS, "pausable-trainer"),
                j -> j != null && !first.getMetadata().getUid().equals(j.getMetadata().getUid()));
    FineTuneJob resumed = cluster.awaitPhase(NS, "pausable", Phase.Pending);
    assertTrue(is(resumed.getStatus(), Conditions.SUSPENDED, Conditions.FALSE));
    // The new trainer reads the same config, whose checkpoint policy resumes automatically.
    TrainerConfig config =
        Contract.readStrict(
            cluster.configMap(NS, "pausable-config").getData().get(Contract.CONFIG_KEY),
            TrainerConfig.class);
    assertEquals("Auto", config.checkpointing().resume());
    assertEquals("/artifacts/checkpoints/pausable", config.output().checkpointDir());
    assertEquals(
        first.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs(),
        second.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
  }

  @Test
  void queuedJobsAreCreatedSuspendedForKueue() {
    Job trainer = harness.toTrainer(FineTuneJobs.lora(NS, "queued").queue("gpu-queue").build());
    assertTrue(trainer.getSpec().getSuspend());
    assertEquals("gpu-queue", trainer.getMetadata().getLabels().get(Labels.KUEUE_QUEUE));
    FineTuneJob queued = cluster.awaitPhase(NS, "queued", Phase.Queued);
    assertTrue(Cluster.reason(queued.getStatus(), Conditions.ADMITTED, Reasons.QUEUED));

    // Kueue admits the workload by unsuspending the Job; the operator leaves that alone.
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(NS)
        .withName("queued-trainer")
        .edit(
            j -> {
              j.getSpec().setSuspend(false);
              return j;
            });
    cluster.jobStatus(trainer, 1, 0, null, null);
    cluster.runningPod(trainer, "a");
    FineTuneJob running = cluster.awaitPhase(NS, "queued", Phase.Running);
    assertTrue(is(running.getStatus(), Conditions.ADMITTED, Conditions.TRUE));
    assertFalse(cluster.job(NS, "queued-trainer").getSpec().getSuspend());
  }

  @Test
  void childrenAreOwnedByTheJobButTheArtifactStoreIsNot() {
    harness.toTrainer(FineTuneJobs.lora(NS, "owned").build());
    FineTuneJob job = cluster.get(NS, "owned");
    List<HasMetadata> children =
        List.of(
            cluster.job(NS, "owned-trainer"),
            cluster.job(NS, "owned-validate"),
            cluster.configMap(NS, "owned-config"),
            cluster.configMap(NS, "owned-progress"),
            client.serviceAccounts().inNamespace(NS).withName("owned-trainer").get(),
            client.rbac().roles().inNamespace(NS).withName("owned-trainer").get(),
            client.rbac().roleBindings().inNamespace(NS).withName("owned-trainer").get());
    for (HasMetadata child : children) {
      assertEquals(
          job.getMetadata().getUid(),
          child.getMetadata().getOwnerReferences().get(0).getUid(),
          child.getKind() + " " + child.getMetadata().getName());
    }
    var store =
        client.persistentVolumeClaims().inNamespace(NS).withName("kubetune-artifacts").get();
    assertTrue(
        store.getMetadata().getOwnerReferences() == null
            || store.getMetadata().getOwnerReferences().isEmpty(),
        "deleting a FineTuneJob must not delete the adapters of the namespace");
    assertTrue(
        job.getMetadata().getFinalizers() == null || job.getMetadata().getFinalizers().isEmpty());
  }

  @Test
  void restartedOperatorCreatesNoDuplicateAndRecoversStatus() {
    Job trainer = harness.toTrainer(FineTuneJobs.lora(NS, "survivor").build());
    cluster.jobStatus(trainer, 1, 0, null, null);
    cluster.runningPod(trainer, "a");
    cluster.awaitPhase(NS, "survivor", Phase.Running);

    harness.stop();
    // While no operator runs, the trainer makes progress.
    cluster.writeProgress(NS, "survivor", progressAt(150));
    harness.start();

    FineTuneJob recovered =
        cluster.awaitStatus(
            NS, "survivor", s -> s.progress != null && Long.valueOf(150).equals(s.progress.step));
    assertEquals(Phase.Running, recovered.getStatus().phase);
    List<Job> trainers =
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(NS)
            .withLabel(Labels.COMPONENT, "trainer")
            .list()
            .getItems();
    assertEquals(1, trainers.size());
    assertEquals(trainer.getMetadata().getUid(), trainers.get(0).getMetadata().getUid());
    assertEquals(
        1,
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(NS)
            .withLabel(Labels.COMPONENT, "validation")
            .list()
            .getItems()
            .size());
  }

  @Test
  void twoHundredJobsAtOnceAllGetValidated() {
    int n = 200;
    for (int i = 0; i < n; i++) {
      cluster.create(FineTuneJobs.lora(NS, "many-" + i).build());
    }
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                client
                    .batch()
                    .v1()
                    .jobs()
                    .inNamespace(NS)
                    .withLabel(Labels.COMPONENT, "validation")
                    .list()
                    .getItems()
                    .size(),
            count -> count == n);
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                client.resources(FineTuneJob.class).inNamespace(NS).list().getItems().stream()
                    .filter(j -> j.getStatus() != null && j.getStatus().phase == Phase.Validating)
                    .count(),
            count -> count == n);
    List<Job> jobs = client.batch().v1().jobs().inNamespace(NS).list().getItems();
    assertEquals(n, jobs.size(), "no trainer Job before validation, and no duplicates");
    assertEquals(n, jobs.stream().map(j -> j.getMetadata().getName()).distinct().count());
    assertNotNull(
        client.persistentVolumeClaims().inNamespace(NS).withName("kubetune-artifacts").get());
    assertEquals(1, client.persistentVolumeClaims().inNamespace(NS).list().getItems().size());
  }

  private static String progressAt(long step) {
    return Contract.write(
        new TrainerProgress(
            Contract.SCHEMA_VERSION,
            TrainerStage.TRAINING,
            step,
            400L,
            1.0,
            step * 1000,
            900.0,
            1.3,
            1.0e-4,
            null,
            null,
            null,
            null,
            List.of(new CheckpointInfo(100, "/artifacts/checkpoints/x/step-100", null)),
            Instant.now().toString()));
  }
}
