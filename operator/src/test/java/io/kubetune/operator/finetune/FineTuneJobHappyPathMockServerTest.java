package io.kubetune.operator.finetune;

import static io.kubetune.operator.finetune.Cluster.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.api.v1alpha1.Reasons;
import io.kubetune.operator.testing.GeneratedCrds;
import io.kubetune.operator.testing.TrainerProgresses;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A LoRA job from creation to Succeeded, through the real reconciler on the mock server. */
@EnableKubernetesMockClient(crud = true)
class FineTuneJobHappyPathMockServerTest {
  private static final String NS = "team-a";

  KubernetesClient client;
  private Operator operator;
  private Cluster cluster;

  @BeforeEach
  void start() {
    GeneratedCrds.register(client);
    cluster = new Cluster(client);
    operator = OperatorBootstrap.newOperator(client);
    operator.register(new FineTuneJobReconciler(FineTuneJobSettings.defaults()));
    operator.start();
  }

  @AfterEach
  void stop() {
    operator.stop();
  }

  @Test
  void loraJobRunsToSucceededWithAdapterAndMetricsInStatus() {
    FineTuneJob created = cluster.create(FineTuneJobs.lora(NS, "chat-lora").rank(4).build());
    String specBefore = Contract.write(created.getSpec());

    // Before any GPU: config, progress ConfigMap, RBAC and the CPU-only validation Job.
    Job validation = cluster.awaitJob(NS, "chat-lora-validate");
    FineTuneJob validating = cluster.awaitPhase(NS, "chat-lora", Phase.Validating);
    assertNull(cluster.job(NS, "chat-lora-trainer"), "no trainer Job before validation");
    assertEquals(
        List.of("validate-dataset", "--config", "/etc/kubetune/job.json"),
        validation.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
    PodSpec validationPod = validation.getSpec().getTemplate().getSpec();
    assertEquals(Boolean.FALSE, validationPod.getAutomountServiceAccountToken());
    assertFalse(
        validationPod
            .getContainers()
            .get(0)
            .getResources()
            .getLimits()
            .containsKey("nvidia.com/gpu"));
    assertTrue(is(validating.getStatus(), Conditions.RECONCILING, Conditions.TRUE));

    ConfigMap config = cluster.configMap(NS, "chat-lora-config");
    TrainerConfig rendered =
        Contract.readStrict(config.getData().get(Contract.CONFIG_KEY), TrainerConfig.class);
    assertEquals("/mnt/pvc/models/llama-3.2-1b", rendered.baseModel().uri());
    assertEquals("/mnt/pvc/datasets/chat/train.jsonl", rendered.dataset().train());
    assertEquals(4, rendered.method().rank());
    assertEquals("chat-lora-progress", rendered.progress().configMap());
    assertEquals("/artifacts/adapters/chat-lora", rendered.output().adapterDir());
    assertEquals("Auto", rendered.checkpointing().resume());
    ConfigMap progress = cluster.configMap(NS, "chat-lora-progress");
    assertTrue(progress.getData() == null || progress.getData().isEmpty());
    Role role = client.rbac().roles().inNamespace(NS).withName("chat-lora-trainer").get();
    assertEquals(List.of("chat-lora-progress"), role.getRules().get(0).getResourceNames());
    assertEquals(List.of("get", "patch", "update"), role.getRules().get(0).getVerbs());
    assertNotNull(client.rbac().roleBindings().inNamespace(NS).withName("chat-lora-trainer").get());
    assertNotNull(
        client.persistentVolumeClaims().inNamespace(NS).withName("kubetune-artifacts").get(),
        "artifact store created on demand");

    // The validation pod reports a valid dataset.
    DatasetReport report = new DatasetReport(true, "chat", 900, 100, 123456, 2, 0, List.of());
    cluster.terminatedPod(validation, "v1", 0, "Completed", Contract.writeBounded(report));
    cluster.jobStatus(validation, 0, 0, "Complete", null);

    Job trainer = cluster.awaitJob(NS, "chat-lora-trainer");
    FineTuneJob pending =
        cluster.awaitStatus(
            NS, "chat-lora", s -> is(s, Conditions.DATASET_VALIDATED, Conditions.TRUE));
    assertEquals(900L, pending.getStatus().datasetStats.trainExamples);
    assertEquals(123456L, pending.getStatus().datasetStats.totalTokens);
    assertTrainerPodIsRestricted(trainer);

    // Kubernetes starts the pod; the trainer reports progress.
    cluster.jobStatus(trainer, 1, 0, null, null);
    cluster.runningPod(trainer, "t1");
    cluster.awaitPhase(NS, "chat-lora", Phase.Running);
    TrainerProgress p =
        TrainerProgresses.training(
            Map.of("batchSize", 8, "learningRate", 2.0e-4),
            List.of(new CheckpointInfo(50, "/artifacts/checkpoints/chat-lora/step-50", 1.4)));
    cluster.writeProgress(NS, "chat-lora", Contract.write(p));
    FineTuneJob running =
        cluster.awaitStatus(
            NS, "chat-lora", s -> s.progress != null && Long.valueOf(50).equals(s.progress.step));
    FineTuneJobStatus rs = running.getStatus();
    assertEquals("25%", rs.progress.percent);
    assertEquals(1.25, rs.metrics.trainLoss);
    assertEquals(1.4, rs.metrics.validLoss);
    assertEquals(2.1, rs.baselineMetrics.validLoss);
    assertEquals("8", rs.resolvedHyperparameters.get("batchSize"));
    assertEquals(
        "pvc://kubetune-artifacts/checkpoints/chat-lora/step-50", rs.checkpoints.get(0).path);
    assertNotNull(rs.estimatedFinishTime);
    assertNotNull(rs.startTime);

    // A garbage progress document is a warning, not a broken reconcile.
    cluster.writeProgress(NS, "chat-lora", "{not json");
    FineTuneJob warned =
        cluster.awaitStatus(
            NS,
            "chat-lora",
            s ->
                Cluster.condition(s, Conditions.RUNNING).get().getMessage().contains("unreadable"));
    assertEquals(50L, warned.getStatus().progress.step, "last readable progress kept");

    // The trainer exits with its result.
    TrainerResult result =
        new TrainerResult(
            Contract.SCHEMA_VERSION,
            true,
            null,
            "done",
            new AdapterInfo(
                "/artifacts/adapters/chat-lora", "sha256:abc123", 4, "pvc://models/llama-3.2-1b"),
            new EvalMetrics(2.1, 0.42),
            new EvalMetrics(1.2, 0.66),
            1.1,
            200L);
    cluster.terminatedPod(trainer, "t1", 0, "Completed", Contract.writeBounded(result));
    cluster.jobStatus(trainer, 0, 0, "Complete", null);
    FineTuneJob done = cluster.awaitPhase(NS, "chat-lora", Phase.Succeeded);
    FineTuneJobStatus ds = done.getStatus();
    assertEquals("pvc://kubetune-artifacts/adapters/chat-lora", ds.adapter.path);
    assertEquals("sha256:abc123", ds.adapter.digest);
    assertEquals(1.2, ds.metrics.validLoss);
    assertNotNull(ds.completionTime);
    assertTrue(is(ds, Conditions.READY, Conditions.TRUE));
    assertTrue(is(ds, Conditions.COMPLETE, Conditions.TRUE));
    assertTrue(is(ds, Conditions.RECONCILING, Conditions.FALSE));
    assertTrue(Cluster.reason(ds, Conditions.READY, Reasons.SUCCEEDED));
    for (var c : ds.conditions) {
      assertEquals(done.getMetadata().getGeneration(), c.getObservedGeneration(), c.getType());
    }

    // Milestones are Events; the user's spec is untouched.
    List<String> reasons =
        client.v1().events().inNamespace(NS).list().getItems().stream()
            .filter(e -> "chat-lora".equals(e.getInvolvedObject().getName()))
            .map(e -> e.getReason())
            .toList();
    assertTrue(
        reasons.containsAll(List.of(Reasons.DATASET_VALID, Reasons.SUCCEEDED)), reasons.toString());
    assertEquals(specBefore, Contract.write(done.getSpec()));
  }

  private static void assertTrainerPodIsRestricted(Job trainer) {
    assertEquals(
        List.of("train", "--config", "/etc/kubetune/job.json"),
        trainer.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
    PodSpec pod = trainer.getSpec().getTemplate().getSpec();
    Container c = pod.getContainers().get(0);
    assertEquals(new Quantity("1"), c.getResources().getLimits().get("nvidia.com/gpu"));
    assertEquals(new Quantity("16Gi"), c.getResources().getLimits().get("memory"));
    assertTrue(pod.getSecurityContext().getRunAsNonRoot());
    assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
    assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
    assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
    assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
    assertEquals("FallbackToLogsOnError", c.getTerminationMessagePolicy());
    assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/artifacts")));
    assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")));
    assertEquals("Never", pod.getRestartPolicy());
    assertEquals("chat-lora-trainer", pod.getServiceAccountName());
    assertEquals(3, trainer.getSpec().getBackoffLimit());
    assertFalse(trainer.getSpec().getSuspend());
    assertTrue(
        pod.getVolumes().stream()
            .anyMatch(
                v ->
                    v.getPersistentVolumeClaim() != null
                        && "kubetune-artifacts"
                            .equals(v.getPersistentVolumeClaim().getClaimName())));
    assertEquals("chat-lora", trainer.getMetadata().getOwnerReferences().get(0).getName());
  }
}
