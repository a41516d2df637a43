package io.kubetune.operator.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.contract.TrainerStage;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FineTuneJobStatusComputerTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static FineTuneJob job() {
    FineTuneJob job = FineTuneJobs.lora("ns", "j").build();
    job.getMetadata().setGeneration(1L);
    return job;
  }

  private static Observed observe(FineTuneJob job, Job trainer, ConfigMap progress, Instant now) {
    return new Observed(
        job, List.of(), "store", null, null, List.of(), trainer, List.of(), progress, now);
  }

  private static Job activeTrainer(boolean suspended) {
    return new JobBuilder()
        .withNewMetadata()
        .withName("j-trainer")
        .endMetadata()
        .withNewSpec()
        .withSuspend(suspended)
        .endSpec()
        .withNewStatus()
        .withStartTime(T0.toString())
        .endStatus()
        .build();
  }

  private static String transition(FineTuneJobStatus s, String type) {
    return Cluster.condition(s, type).get().getLastTransitionTime();
  }

  @Test
  void lastTransitionTimeMovesOnlyWhenTheStatusMoves() {
    FineTuneJob job = job();
    job.getStatus()
        .conditions
        .add(
            new io.fabric8.kubernetes.api.model.Condition(
                T0.toString(),
                "",
                1L,
                "DatasetValid",
                Conditions.TRUE,
                Conditions.DATASET_VALIDATED));
    FineTuneJobStatus queued =
        FineTuneJobStatusComputer.compute(observe(job, activeTrainer(true), null, T0));
    assertEquals(Phase.Queued, queued.phase);
    job.setStatus(queued);

    FineTuneJobStatus again =
        FineTuneJobStatusComputer.compute(
            observe(job, activeTrainer(true), null, T0.plusSeconds(60)));
    assertEquals(Contract.write(queued), Contract.write(again), "same observation, same status");

    FineTuneJobStatus admitted =
        FineTuneJobStatusComputer.compute(
            observe(job, activeTrainer(false), null, T0.plusSeconds(120)));
    assertEquals(Phase.Pending, admitted.phase);
    assertEquals(T0.plusSeconds(120).toString(), transition(admitted, Conditions.ADMITTED));
    assertEquals(T0.toString(), transition(admitted, Conditions.DATASET_VALIDATED));
    assertEquals(
        transition(queued, Conditions.RECONCILING), transition(admitted, Conditions.RECONCILING));
  }

  @Test
  void garbageProgressKeepsTheLastReadableProgress() {
    FineTuneJob job = job();
    ConfigMap good = progress(Contract.write(progressAt(10, T0.plusSeconds(100))));
    FineTuneJobStatus first =
        FineTuneJobStatusComputer.compute(observe(job, activeTrainer(false), good, T0));
    assertEquals(10L, first.progress.step);
    job.setStatus(first);
    FineTuneJobStatus second =
        FineTuneJobStatusComputer.compute(observe(job, activeTrainer(false), progress("]]"), T0));
    assertEquals(10L, second.progress.step);
    assertEquals(1.5, second.metrics.trainLoss);
  }

  @Test
  void estimatedFinishExtrapolatesTheStepRate() {
    // 10 of 40 steps in 100 s: 300 s to go.
    assertEquals(
        T0.plusSeconds(400).toString(),
        FineTuneJobStatusComputer.estimate(T0.toString(), progressAt(10, T0.plusSeconds(100))));
    assertNull(FineTuneJobStatusComputer.estimate(null, progressAt(10, T0)));
    assertNull(FineTuneJobStatusComputer.estimate(T0.toString(), progressAt(0, T0.plusSeconds(5))));
  }

  @Test
  void specProblemsWinOverEverythingElse() {
    FineTuneJob job = job();
    FineTuneJobStatus s =
        FineTuneJobStatusComputer.compute(
            new Observed(
                job,
                List.of(new SpecProblem("spec.method.lora.rank", "must be between 1 and 512")),
                "store",
                null,
                null,
                List.of(),
                null,
                List.of(),
                null,
                T0));
    assertEquals(Phase.Failed, s.phase);
    assertEquals("spec.method.lora.rank", s.error.field);
    assertTrue(Cluster.is(s, Conditions.STALLED, Conditions.TRUE));
    assertTrue(Cluster.is(s, Conditions.RECONCILING, Conditions.FALSE));
  }

  @Test
  void aFailedJobSeenBeforeItsPodWaitsForThePodsReport() {
    Job failed =
        new JobBuilder()
            .withNewMetadata()
            .withName("j-validate")
            .endMetadata()
            .withNewStatus()
            .withFailed(1)
            .addNewCondition()
            .withType("Failed")
            .withStatus("True")
            .withReason("BackoffLimitExceeded")
            .withLastTransitionTime(T0.toString())
            .endCondition()
            .endStatus()
            .build();
    assertEquals(
        FineTuneJobStatusComputer.Validation.RUNNING,
        FineTuneJobStatusComputer.validation(failed, List.of(), T0.plusSeconds(1)).state());
    assertEquals(
        FineTuneJobStatusComputer.Validation.ERROR,
        FineTuneJobStatusComputer.validation(
                failed, List.of(), T0.plus(FineTuneJobStatusComputer.POD_REPORT_GRACE))
            .state(),
        "a pod that never shows up does not block the job forever");
  }

  @Test
  void aFullFineTuningResultIsRecordedAsAModelNotAnAdapter() {
    FineTuneJob job = job();
    Job done =
        new JobBuilder()
            .withNewMetadata()
            .withName("j-trainer")
            .endMetadata()
            .withNewStatus()
            .withSucceeded(1)
            .withCompletionTime(T0.plusSeconds(60).toString())
            .addNewCondition()
            .withType("Complete")
            .withStatus("True")
            .withLastTransitionTime(T0.plusSeconds(60).toString())
            .endCondition()
            .endStatus()
            .build();
    TrainerResult result =
        new TrainerResult(
            Contract.SCHEMA_VERSION,
            true,
            null,
            "trained 30 steps (full: ...)",
            new AdapterInfo(
                "/artifacts/adapters/j",
                "sha256:" + "ab".repeat(32),
                null,
                "hf://org/base",
                AdapterInfo.KIND_MODEL),
            new EvalMetrics(4.0, 0.1),
            new EvalMetrics(1.0, 0.9),
            0.9,
            30L,
            new MethodFootprint("full", 1000L, 1000L, 8000L, 4000L));
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("j-trainer-abc")
            .withCreationTimestamp(T0.toString())
            .endMetadata()
            .withNewStatus()
            .withPhase("Succeeded")
            .addNewContainerStatus()
            .withName(TrainerPods.CONTAINER)
            .withNewState()
            .withNewTerminated()
            .withExitCode(0)
            .withReason("Completed")
            .withMessage(Contract.writeBounded(result))
            .endTerminated()
            .endState()
            .endContainerStatus()
            .endStatus()
            .build();
    FineTuneJobStatus s =
        FineTuneJobStatusComputer.compute(
            new Observed(
                job,
                List.of(),
                "store",
                null,
                null,
                List.of(),
                done,
                List.of(pod),
                null,
                T0.plusSeconds(61)));
    assertEquals(Phase.Succeeded, s.phase);
    assertEquals(AdapterInfo.KIND_MODEL, s.adapter.kind);
    assertNull(s.adapter.rank);
    assertEquals("sha256:" + "ab".repeat(32), s.adapter.digest);
    String ready = Cluster.condition(s, Conditions.READY).get().getMessage();
    assertTrue(ready.startsWith("fine-tuned model written to "), ready);
  }

  private static ConfigMap progress(String text) {
    return new ConfigMapBuilder().withData(Map.of(Contract.PROGRESS_KEY, text)).build();
  }

  private static TrainerProgress progressAt(long step, Instant at) {
    return new TrainerProgress(
        Contract.SCHEMA_VERSION,
        TrainerStage.TRAINING,
        step,
        40L,
        null,
        null,
        null,
        1.5,
        null,
        null,
        null,
        null,
        null,
        null,
        at.toString());
  }
}
