package io.kubetune.operator.finetune;

import static io.kubetune.operator.finetune.Cluster.is;
import static io.kubetune.operator.finetune.Cluster.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerResult;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.DataSource;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.api.v1alpha1.Reasons;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Invalid specs, invalid datasets and every trainer failure reason, end to end. */
@EnableKubernetesMockClient(crud = true)
class FineTuneJobFailuresMockServerTest {
  private static final String NS = "team-b";

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
  void invalidSpecIsStalledNamingTheFieldAndRequestsNothing() {
    cluster.create(FineTuneJobs.lora(NS, "bad-uri").baseModel("s3://bucket/llama").build());
    cluster.create(FineTuneJobs.lora(NS, "bad-rank").rank(0).build());
    cluster.create(FineTuneJobs.lora(NS, "bad-module").targetModules("q_proj", "attn").build());
    cluster.create(
        FineTuneJobs.lora(NS, "bad-qlora")
            .with(s -> s.method.type = io.kubetune.operator.api.v1alpha1.MethodSpec.Type.QLORA)
            .build());
    cluster.create(
        FineTuneJobs.lora(NS, "bad-split")
            .validation(DataSource.ofUri("pvc://datasets/chat/valid.jsonl"))
            .validationSplit(0.1)
            .build());
    cluster.create(FineTuneJobs.lora(NS, "bad-lr").learningRate("fast").build());

    assertStalled("bad-uri", "spec.baseModel.uri", "hf://org/name");
    assertStalled("bad-rank", "spec.method.lora.rank", "between 1 and 512");
    assertStalled("bad-module", "spec.method.lora.targetModules", "'attn'");
    assertStalled("bad-qlora", "spec.method.quantization", "nf4");
    assertStalled("bad-split", "spec.dataset.validationSplit", "not both");
    assertStalled("bad-lr", "spec.hyperparameters.learningRate", "decimal");
    assertEquals(0, client.batch().v1().jobs().inNamespace(NS).list().getItems().size());
  }

  @Test
  void fixedSpecInANewGenerationIsValidatedAgain() {
    cluster.create(FineTuneJobs.lora(NS, "fix-me").rank(0).build());
    assertStalled("fix-me", "spec.method.lora.rank", "between 1 and 512");
    cluster.editSpec(NS, "fix-me", j -> j.getSpec().method.lora.rank = 8);
    cluster.awaitJob(NS, "fix-me-validate");
    FineTuneJob validating = cluster.awaitPhase(NS, "fix-me", Phase.Validating);
    assertNull(validating.getStatus().error);
    assertEquals(2L, validating.getStatus().observedGeneration);
  }

  @Test
  void invalidDatasetLandsInStatusWithLineNumbersAndAFixedDatasetRevalidates() {
    cluster.create(FineTuneJobs.lora(NS, "bad-data").build());
    Job validation = cluster.awaitJob(NS, "bad-data-validate");
    DatasetReport report =
        new DatasetReport(
            false,
            "chat",
            0,
            0,
            0,
            0,
            2,
            List.of(
                new DatasetError(
                    17, DatasetErrorCode.NO_ASSISTANT_TURN, "line has no assistant turn"),
                new DatasetError(42, DatasetErrorCode.MALFORMED_JSON, "unexpected end of input")));
    cluster.terminatedPod(validation, "v", 3, "Error", Contract.writeBounded(report));
    cluster.jobStatus(validation, 0, 1, "Failed", "BackoffLimitExceeded");

    FineTuneJob failed = cluster.awaitPhase(NS, "bad-data", Phase.Failed);
    FineTuneJobStatus s = failed.getStatus();
    assertTrue(is(s, Conditions.DATASET_VALIDATED, Conditions.FALSE));
    assertTrue(reason(s, Conditions.FAILED, Reasons.DATASET_INVALID));
    assertTrue(Cluster.stalled(s));
    assertEquals(List.of(17L, 42L), s.datasetStats.errors.stream().map(e -> e.line).toList());
    assertEquals("NO_ASSISTANT_TURN", s.datasetStats.errors.get(0).code);
    String message = Cluster.condition(s, Conditions.DATASET_VALIDATED).get().getMessage();
    assertTrue(message.contains("line 17"), message);
    assertTrue(message.contains(DatasetErrorCode.NO_ASSISTANT_TURN.hint()), message);
    assertNull(cluster.job(NS, "bad-data-trainer"), "no GPU requested for an invalid dataset");

    // The user fixes the data file and bumps the job (a new generation): validation runs again.
    String oldUid = validation.getMetadata().getUid();
    cluster.editSpec(NS, "bad-data", j -> j.getSpec().activeDeadlineSeconds = 86400L);
    Job again =
        org.awaitility.Awaitility.await()
            .atMost(Cluster.TIMEOUT)
            .until(
                () -> cluster.job(NS, "bad-data-validate"),
                j -> j != null && !oldUid.equals(j.getMetadata().getUid()));
    assertEquals("2", again.getMetadata().getAnnotations().get(Labels.VALIDATED_GENERATION));
    cluster.awaitPhase(NS, "bad-data", Phase.Validating);
    harness.validDataset(again);
    Job trainer = cluster.awaitJob(NS, "bad-data-trainer");
    assertEquals(86400L, trainer.getSpec().getActiveDeadlineSeconds());
  }

  @Test
  void pendingReasonsFromThePod() {
    Job unschedulable = harness.toTrainer(FineTuneJobs.lora(NS, "no-gpu").gpus(8).build());
    cluster.jobStatus(unschedulable, 1, 0, null, null);
    cluster.unschedulablePod(unschedulable, "p");
    FineTuneJob u =
        cluster.awaitStatus(
            NS, "no-gpu", s -> reason(s, Conditions.RUNNING, Reasons.UNSCHEDULABLE));
    assertEquals(Phase.Pending, u.getStatus().phase);
    assertTrue(
        Cluster.condition(u.getStatus(), Conditions.RUNNING)
            .get()
            .getMessage()
            .contains("Insufficient"));

    Job pull = harness.toTrainer(FineTuneJobs.lora(NS, "bad-image").build());
    cluster.jobStatus(pull, 1, 0, null, null);
    cluster.waitingPod(pull, "p", "ImagePullBackOff", "Back-off pulling image");
    cluster.awaitStatus(
        NS, "bad-image", s -> reason(s, Conditions.RUNNING, Reasons.IMAGE_PULL_BACK_OFF));

    Job crash = harness.toTrainer(FineTuneJobs.lora(NS, "crashing").build());
    cluster.jobStatus(crash, 1, 0, null, null);
    cluster.waitingPod(crash, "p", "CrashLoopBackOff", "back-off 5m0s restarting failed container");
    cluster.awaitStatus(
        NS, "crashing", s -> reason(s, Conditions.RUNNING, Reasons.CRASH_LOOP_BACK_OFF));
  }

  @Test
  void oomKilled() {
    Job trainer = harness.toTrainer(FineTuneJobs.lora(NS, "oom").build());
    cluster.terminatedPod(trainer, "a", 137, "OOMKilled", null);
    cluster.jobStatus(trainer, 0, 4, "Failed", "BackoffLimitExceeded");
    FineTuneJobStatus s = assertFailed("oom", Reasons.OOM_KILLED);
    assertTrue(s.error.message.contains("spec.resources.memory"), s.error.message);
    assertEquals(4, s.restarts);
  }

  @Test
  void deadlineExceeded() {
    Job trainer = harness.toTrainer(FineTuneJobs.lora(NS, "slow").deadline(3600).build());
    assertEquals(3600L, trainer.getSpec().getActiveDeadlineSeconds());
    cluster.jobStatus(trainer, 0, 0, "Failed", "DeadlineExceeded");
    FineTuneJobStatus s = assertFailed("slow", Reasons.DEADLINE_EXCEEDED);
    assertTrue(s.error.message.contains("activeDeadlineSeconds=3600"), s.error.message);
  }

  @Test
  void backoffLimitExceeded() {
    Job trainer = harness.toTrainer(FineTuneJobs.lora(NS, "flaky").build());
    cluster.terminatedPod(
        trainer, "a", 1, "Error", "Traceback: CUDA error: an illegal memory access");
    cluster.jobStatus(trainer, 0, 4, "Failed", "BackoffLimitExceeded");
    FineTuneJobStatus s = assertFailed("flaky", Reasons.BACKOFF_LIMIT_EXCEEDED);
    assertTrue(s.error.message.contains("CUDA error"), s.error.message);
  }

  @Test
  void datasetInvalidReportedByTheTrainer() {
    Job trainer = harness.toTrainer(FineTuneJobs.lora(NS, "late-data").build());
    TrainerResult result =
        new TrainerResult(
            Contract.SCHEMA_VERSION,
            false,
            FailureReason.DATASET_INVALID,
            "line 3: 'messages' must end with an assistant turn",
            null,
            null,
            null,
            null,
            0L);
    cluster.terminatedPod(trainer, "a", 3, "Error", Contract.writeBounded(result));
    cluster.jobStatus(trainer, 0, 1, "Failed", "PodFailurePolicy");
    FineTuneJobStatus s = assertFailed("late-data", Reasons.DATASET_INVALID);
    assertTrue(s.error.message.contains("line 3"), s.error.message);
  }

  private FineTuneJobStatus assertFailed(String name, String reason) {
    FineTuneJob failed = cluster.awaitPhase(NS, name, Phase.Failed);
    FineTuneJobStatus s = failed.getStatus();
    assertTrue(reason(s, Conditions.FAILED, reason), () -> s.conditions.toString());
    assertTrue(is(s, Conditions.FAILED, Conditions.TRUE));
    assertTrue(Cluster.stalled(s));
    assertTrue(is(s, Conditions.READY, Conditions.FALSE));
    assertEquals(reason, s.error.code);
    assertNotEquals(null, s.completionTime);
    return s;
  }

  private void assertStalled(String name, String field, String hint) {
    FineTuneJob job = cluster.awaitStatus(NS, name, Cluster::stalled);
    FineTuneJobStatus s = job.getStatus();
    assertEquals(Phase.Failed, s.phase);
    assertTrue(reason(s, Conditions.STALLED, Reasons.SPEC_INVALID));
    assertEquals(field, s.error.field, () -> s.error.message);
    String message = Cluster.condition(s, Conditions.STALLED).get().getMessage();
    assertTrue(message.contains(field) && message.contains(hint), message);
  }
}
