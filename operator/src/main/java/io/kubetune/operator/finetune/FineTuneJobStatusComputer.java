package io.kubetune.operator.finetune;

import static io.kubetune.operator.api.v1alpha1.Conditions.FALSE;
import static io.kubetune.operator.api.v1alpha1.Conditions.TRUE;
import static io.kubetune.operator.api.v1alpha1.Conditions.UNKNOWN;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.ContractException;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.api.v1alpha1.Reasons;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Computes a FineTuneJob's status from what the operator observes. Pure: the same observation
 * always gives the same status, which is what lets the reconciler write status only when it
 * changed.
 */
public final class FineTuneJobStatusComputer {
  /** Longest message copied from a termination message or log tail into a condition. */
  static final int MAX_MESSAGE = 1024;

  private FineTuneJobStatusComputer() {}

  /** Outcome of dataset validation. */
  enum Validation {
    NOT_STARTED,
    RUNNING,
    VALID,
    INVALID,
    ERROR
  }

  /** What dataset validation found, with the message for users. */
  record ValidationResult(Validation state, DatasetReport report, String reason, String message) {}

  /**
   * How long a finished Job's outcome waits for its pod to show up in the operator's cache. Job and
   * Pod events arrive on separate watches, so the Job may be seen first; deciding without the pod's
   * termination message would report a generic reason and then flip to the real one.
   */
  static final Duration POD_REPORT_GRACE = Duration.ofSeconds(30);

  /** Whether {@code job} finished but its pod's report has not been seen yet (within the grace). */
  static boolean awaitingPodReport(Job job, List<Pod> pods, Instant now) {
    if (job == null || !JobStates.finished(job) || JobStates.newestTerminated(pods).isPresent()) {
      return false;
    }
    // A deadline kills running pods and no pod may ever have terminated: nothing to wait for.
    boolean deadline =
        JobStates.condition(job, "Failed")
            .map(c -> Reasons.DEADLINE_EXCEEDED.equals(c.getReason()))
            .orElse(false);
    int ended =
        job.getStatus() == null
            ? 0
            : (job.getStatus().getFailed() == null ? 0 : job.getStatus().getFailed())
                + (job.getStatus().getSucceeded() == null ? 0 : job.getStatus().getSucceeded());
    if (deadline || ended == 0) {
      return false;
    }
    String since =
        JobStates.condition(job, "Complete")
            .or(() -> JobStates.condition(job, "Failed"))
            .map(JobCondition::getLastTransitionTime)
            .orElse(null);
    if (since == null) {
      return false;
    }
    try {
      return now.isBefore(Instant.parse(since).plus(POD_REPORT_GRACE));
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  /** Reads the validation Job and its pods. */
  static ValidationResult validation(Job job, List<Pod> pods, Instant now) {
    if (job == null) {
      return new ValidationResult(Validation.NOT_STARTED, null, Reasons.PENDING, "");
    }
    if (awaitingPodReport(job, pods, now)) {
      return new ValidationResult(
          Validation.RUNNING,
          null,
          Reasons.VALIDATING_DATASET,
          "dataset validation finished; reading its report");
    }
    Optional<Pod> last = JobStates.newestTerminated(pods);
    Optional<ContainerStateTerminated> term = last.flatMap(JobStates::terminated);
    DatasetReport report = null;
    String raw = term.map(ContainerStateTerminated::getMessage).orElse(null);
    if (raw != null && !raw.isBlank()) {
      try {
        report = Contract.read(raw, DatasetReport.class);
      } catch (ContractException e) {
        report = null;
      }
    }
    if (JobStates.complete(job)) {
      if (report != null && !report.valid()) {
        return new ValidationResult(
            Validation.INVALID, report, Reasons.DATASET_INVALID, datasetMessage(report));
      }
      String summary =
          report == null
              ? "dataset validated"
              : String.format(
                  "%d training and %d validation examples, %d tokens, format %s",
                  report.trainExamples(),
                  report.validExamples(),
                  report.totalTokens(),
                  report.format());
      return new ValidationResult(Validation.VALID, report, Reasons.DATASET_VALID, summary);
    }
    if (JobStates.failed(job)) {
      Integer exit = term.map(ContainerStateTerminated::getExitCode).orElse(null);
      if (report != null || (exit != null && exit == FailureReason.DATASET_INVALID.exitCode())) {
        return new ValidationResult(
            Validation.INVALID,
            report,
            Reasons.DATASET_INVALID,
            report == null
                ? "the dataset is invalid (the validation pod left no report)"
                : datasetMessage(report));
      }
      String why = JobStates.condition(job, "Failed").map(JobCondition::getReason).orElse("Failed");
      String detail = raw == null ? "" : ": " + truncate(raw);
      if (term.map(t -> "OOMKilled".equals(t.getReason())).orElse(false)) {
        why = Reasons.OOM_KILLED;
        detail = "; raise the operator's " + FineTuneJobSettings.ENV_VALIDATION_MEMORY;
      }
      return new ValidationResult(
          Validation.ERROR,
          null,
          Reasons.VALIDATION_ERROR,
          "the dataset validation pod failed (" + why + ")" + detail);
    }
    for (Pod pod : pods) {
      Optional<String[]> pending = JobStates.pendingReason(pod);
      if (pending.isPresent()) {
        return new ValidationResult(
            Validation.RUNNING,
            null,
            pending.get()[0],
            "dataset validation pod: " + pending.get()[1]);
      }
    }
    return new ValidationResult(
        Validation.RUNNING, null, Reasons.VALIDATING_DATASET, "dataset validation pod is running");
  }

  private static String datasetMessage(DatasetReport report) {
    StringBuilder b = new StringBuilder();
    b.append(report.errorCount()).append(" problem(s) in the dataset");
    List<DatasetError> errors = report.errors();
    for (int i = 0; i < Math.min(3, errors.size()); i++) {
      DatasetError e = errors.get(i);
      b.append(i == 0 ? ": " : "; ");
      b.append(e.line() > 0 ? "line " + e.line() : "dataset").append(": ").append(e.message());
      if (e.code() != null) {
        b.append(" (").append(e.code().hint()).append(")");
      }
    }
    if (errors.size() > 3 || report.errorCount() > 3) {
      b.append("; see status.datasetStats.errors");
    }
    b.append(". Fix the data, then re-validate by changing the spec (a new generation)");
    return b.toString();
  }

  /** Whether the trainer may start: the dataset passed, now or in an earlier reconcile. */
  static boolean datasetValidated(FineTuneJob job, ValidationResult validation) {
    if (validation.state() == Validation.VALID) {
      return true;
    }
    if (validation.state() != Validation.NOT_STARTED) {
      return false;
    }
    return job.getStatus() != null
        && job.getStatus().conditions != null
        && job.getStatus().conditions.stream()
            .anyMatch(
                c ->
                    Conditions.DATASET_VALIDATED.equals(c.getType()) && TRUE.equals(c.getStatus()));
  }

  /** Computes the status. */
  public static FineTuneJobStatus compute(Observed o) {
    FineTuneJob job = o.job();
    FineTuneJobStatus old = job.getStatus() == null ? new FineTuneJobStatus() : job.getStatus();
    long generation =
        job.getMetadata().getGeneration() == null ? 0 : job.getMetadata().getGeneration();
    FineTuneJobStatus s = new FineTuneJobStatus();
    s.observedGeneration = generation;
    s.startTime = old.startTime;
    s.completionTime = old.completionTime;
    s.estimatedFinishTime = old.estimatedFinishTime;
    s.progress = old.progress;
    s.metrics = old.metrics;
    s.baselineMetrics = old.baselineMetrics;
    s.resolvedHyperparameters = old.resolvedHyperparameters;
    s.datasetStats = old.datasetStats;
    s.checkpoints = old.checkpoints;
    s.adapter = old.adapter;
    s.trainerJobRef = old.trainerJobRef;
    s.restarts = old.restarts;
    ConditionSet c = new ConditionSet(old.conditions, generation, o.now());

    String progressWarning = mirrorProgress(o, s);

    // 1. Spec mistakes: nothing runs until a new generation fixes them.
    if (!o.problems().isEmpty()) {
      SpecProblem first = o.problems().get(0);
      String message = joinProblems(o.problems());
      s.phase = Phase.Failed;
      s.error = error(Reasons.SPEC_INVALID, message, first.field());
      c.set(Conditions.READY, FALSE, Reasons.SPEC_INVALID, message)
          .set(Conditions.RECONCILING, FALSE, Reasons.SPEC_INVALID, "")
          .set(Conditions.STALLED, TRUE, Reasons.SPEC_INVALID, message)
          .set(Conditions.DATASET_VALIDATED, UNKNOWN, Reasons.SPEC_INVALID, "spec is invalid")
          .set(Conditions.ADMITTED, FALSE, Reasons.SPEC_INVALID, "")
          .set(Conditions.RUNNING, FALSE, Reasons.SPEC_INVALID, "")
          .set(Conditions.COMPLETE, FALSE, Reasons.SPEC_INVALID, "")
          .set(Conditions.FAILED, TRUE, Reasons.SPEC_INVALID, message)
          .set(Conditions.SUSPENDED, FALSE, Reasons.SPEC_INVALID, "");
      s.conditions = c.build();
      return s;
    }

    ValidationResult v = validation(o.validationJob(), o.validationPods(), o.now());
    boolean trainerReportPending = awaitingPodReport(o.trainerJob(), o.trainerPods(), o.now());
    if (v.report() != null) {
      s.datasetStats = stats(v.report());
    }
    boolean validated = datasetValidated(job, v);
    Job trainer = o.trainerJob();
    boolean suspend = Boolean.TRUE.equals(job.getSpec().suspend);
    boolean finished = trainer != null && JobStates.finished(trainer);
    boolean succeededBefore = old.phase == Phase.Succeeded && trainer == null;
    if (trainer != null) {
      s.trainerJobRef = trainer.getMetadata().getName();
      if (trainer.getStatus() != null && trainer.getStatus().getFailed() != null) {
        s.restarts = trainer.getStatus().getFailed();
      }
      if (s.startTime == null && trainer.getStatus() != null) {
        s.startTime = trainer.getStatus().getStartTime();
      }
    }

    if (validated) {
      c.set(
          Conditions.DATASET_VALIDATED,
          TRUE,
          Reasons.DATASET_VALID,
          v.message().isEmpty()
              ? conditionMessage(old, Conditions.DATASET_VALIDATED)
              : v.message());
    } else if (v.state() == Validation.INVALID || v.state() == Validation.ERROR) {
      c.set(Conditions.DATASET_VALIDATED, FALSE, v.reason(), v.message());
    } else {
      c.set(Conditions.DATASET_VALIDATED, UNKNOWN, v.reason(), v.message());
    }

    if (succeededBefore
        || (trainer != null && JobStates.complete(trainer) && !trainerReportPending)) {
      succeeded(o, s, c);
    } else if (trainer != null && JobStates.failed(trainer) && !trainerReportPending) {
      trainerFailed(o, s, c);
    } else if (trainerReportPending) {
      s.phase = old.phase == Phase.Pending ? Phase.Pending : Phase.Running;
      String msg = "the trainer Job finished; reading the trainer's result";
      reconciling(c, Reasons.TRAINING, msg);
      c.set(Conditions.ADMITTED, TRUE, Reasons.ADMITTED, "")
          .set(Conditions.RUNNING, FALSE, Reasons.TRAINING, msg);
    } else if (suspend) {
      s.phase = Phase.Suspended;
      String msg = "spec.suspend is true; set it to false to resume from the newest checkpoint";
      c.set(Conditions.READY, FALSE, Reasons.SUSPENDED, msg)
          .set(Conditions.RECONCILING, FALSE, Reasons.SUSPENDED, "")
          .set(Conditions.STALLED, FALSE, Reasons.SUSPENDED, "")
          .set(Conditions.ADMITTED, FALSE, Reasons.SUSPENDED, "")
          .set(Conditions.RUNNING, FALSE, Reasons.SUSPENDED, msg)
          .set(Conditions.COMPLETE, FALSE, Reasons.SUSPENDED, "")
          .set(Conditions.FAILED, FALSE, Reasons.SUSPENDED, "")
          .set(Conditions.SUSPENDED, TRUE, Reasons.SUSPENDED, msg);
    } else if (v.state() == Validation.INVALID || v.state() == Validation.ERROR) {
      s.phase = Phase.Failed;
      s.error = error(v.reason(), v.message(), "spec.dataset");
      stalled(c, v.reason(), v.message());
    } else if (!validated) {
      s.phase = Phase.Validating;
      reconciling(c, v.reason(), v.message());
      c.set(Conditions.ADMITTED, FALSE, Reasons.PENDING, "waiting for dataset validation")
          .set(Conditions.RUNNING, FALSE, Reasons.PENDING, "waiting for dataset validation");
    } else if (trainer == null) {
      s.phase = Phase.Pending;
      String msg = "creating the trainer Job";
      reconciling(c, Reasons.TRAINER_PENDING, msg);
      c.set(Conditions.ADMITTED, FALSE, Reasons.PENDING, msg)
          .set(Conditions.RUNNING, FALSE, Reasons.TRAINER_PENDING, msg);
    } else if (Boolean.TRUE.equals(trainer.getSpec().getSuspend())) {
      s.phase = Phase.Queued;
      String msg = "waiting for Kueue to admit the trainer Job in queue " + job.getSpec().queueName;
      reconciling(c, Reasons.QUEUED, msg);
      c.set(Conditions.ADMITTED, FALSE, Reasons.QUEUED, msg)
          .set(Conditions.RUNNING, FALSE, Reasons.QUEUED, msg);
    } else {
      active(o, s, c, progressWarning);
    }
    if (s.phase != Phase.Failed) {
      s.error = null;
    }
    s.conditions = c.build();
    return s;
  }

  private static void active(Observed o, FineTuneJobStatus s, ConditionSet c, String warning) {
    List<Pod> pods = JobStates.newestFirst(o.trainerPods());
    Optional<Pod> running = pods.stream().filter(JobStates::running).findFirst();
    String restartNote = "";
    Optional<Pod> lastFailed = JobStates.newestTerminated(pods);
    if (lastFailed.isPresent() && s.restarts != null && s.restarts > 0) {
      String why = JobStates.terminated(lastFailed.get()).map(t -> t.getReason()).orElse("Error");
      restartNote = " (restart " + s.restarts + " after " + why + ", resumed from checkpoint)";
    }
    if (running.isPresent()) {
      s.phase = Phase.Running;
      String msg = "training" + progressText(s) + restartNote;
      if (warning != null) {
        msg = msg + "; warning: " + warning;
      }
      reconciling(c, Reasons.TRAINING, msg);
      c.set(Conditions.ADMITTED, TRUE, Reasons.ADMITTED, "")
          .set(Conditions.RUNNING, TRUE, Reasons.TRAINING, msg);
      return;
    }
    s.phase = Phase.Pending;
    String reason = Reasons.TRAINER_PENDING;
    String msg = "the trainer pod is starting" + restartNote;
    for (Pod pod : pods) {
      Optional<String[]> pending = JobStates.pendingReason(pod);
      if (pending.isPresent()) {
        reason = pending.get()[0];
        msg = pending.get()[1];
        break;
      }
    }
    reconciling(c, reason, msg);
    c.set(Conditions.ADMITTED, TRUE, Reasons.ADMITTED, "")
        .set(Conditions.RUNNING, FALSE, reason, msg);
  }

  private static void succeeded(Observed o, FineTuneJobStatus s, ConditionSet c) {
    s.phase = Phase.Succeeded;
    Job trainer = o.trainerJob();
    if (trainer != null) {
      if (trainer.getStatus() != null && trainer.getStatus().getCompletionTime() != null) {
        s.completionTime = trainer.getStatus().getCompletionTime();
      }
      TrainerResult result = result(o.trainerPods());
      if (result != null && result.adapter() != null) {
        FineTuneJobStatus.Adapter a = new FineTuneJobStatus.Adapter();
        a.path =
            TrainerConfigRenderer.artifactUri(
                result.adapter().path(), o.artifactClaim(), o.artifactSubPath());
        a.digest = result.adapter().digest();
        a.rank = result.adapter().rank();
        a.baseModel = result.adapter().baseModel();
        a.kind = result.adapter().kind();
        s.adapter = a;
        if (result.finalEval() != null) {
          if (s.metrics == null) {
            s.metrics = new FineTuneJobStatus.Metrics();
          }
          s.metrics.validLoss = result.finalEval().validLoss();
          s.metrics.validTokenAccuracy = result.finalEval().validTokenAccuracy();
        }
        if (result.trainLoss() != null) {
          if (s.metrics == null) {
            s.metrics = new FineTuneJobStatus.Metrics();
          }
          s.metrics.trainLoss = result.trainLoss();
        }
        if (result.baseline() != null && s.baselineMetrics == null) {
          s.baselineMetrics = metrics(result.baseline());
        }
      } else if (s.adapter == null) {
        FineTuneJobStatus.Adapter a = new FineTuneJobStatus.Adapter();
        a.path =
            TrainerConfigRenderer.artifactUri(
                TrainerConfigRenderer.ARTIFACTS_DIR
                    + "/adapters/"
                    + o.job().getMetadata().getName(),
                o.artifactClaim(),
                o.artifactSubPath());
        s.adapter = a;
      }
      if (s.progress != null && s.progress.totalSteps != null) {
        s.progress.percent = "100%";
      }
    }
    if (s.completionTime == null) {
      s.completionTime = o.now().toString();
    }
    s.estimatedFinishTime = null;
    String msg =
        (s.adapter != null && AdapterInfo.isModelKind(s.adapter.kind)
                ? "fine-tuned model written to "
                : "adapter written to ")
            + (s.adapter == null ? "the artifact store" : s.adapter.path)
            + (s.adapter != null && s.adapter.digest != null ? " (" + s.adapter.digest + ")" : "");
    c.set(Conditions.READY, TRUE, Reasons.SUCCEEDED, msg)
        .set(Conditions.RECONCILING, FALSE, Reasons.SUCCEEDED, "")
        .set(Conditions.STALLED, FALSE, Reasons.SUCCEEDED, "")
        .set(Conditions.ADMITTED, TRUE, Reasons.ADMITTED, "")
        .set(Conditions.RUNNING, FALSE, Reasons.SUCCEEDED, "")
        .set(Conditions.COMPLETE, TRUE, Reasons.SUCCEEDED, msg)
        .set(Conditions.FAILED, FALSE, Reasons.SUCCEEDED, "")
        .set(Conditions.SUSPENDED, FALSE, Reasons.SUCCEEDED, "");
  }

  private static void trainerFailed(Observed o, FineTuneJobStatus s, ConditionSet c) {
    s.phase = Phase.Failed;
    Job trainer = o.trainerJob();
    String jobReason =
        JobStates.condition(trainer, "Failed").map(JobCondition::getReason).orElse("");
    Optional<Pod> last = JobStates.newestTerminated(o.trainerPods());
    Optional<ContainerStateTerminated> term = last.flatMap(JobStates::terminated);
    TrainerResult result = result(o.trainerPods());
    String reason;
    String message;
    if (Reasons.DEADLINE_EXCEEDED.equals(jobReason)) {
      reason = Reasons.DEADLINE_EXCEEDED;
      message =
          "the trainer ran longer than spec.activeDeadlineSeconds="
              + o.job().getSpec().activeDeadlineSeconds
              + "; raise it and delete Job "
              + trainer.getMetadata().getName()
              + " to resume from the newest checkpoint";
    } else if (term.map(t -> "OOMKilled".equals(t.getReason())).orElse(false)) {
      reason = Reasons.OOM_KILLED;
      message =
          "the trainer was killed for exceeding its memory limit"
              + " (spec.resources.memory); raise it, lower hyperparameters.batchSize or"
              + " maxSeqLength, or use method qlora";
    } else if (result != null && result.failure() != null) {
      reason = result.failure().reason();
      message = result.message() == null ? reason : truncate(result.message());
    } else if (term.isPresent()
        && term.get().getExitCode() != null
        && term.get().getExitCode() > 1
        && term.get().getExitCode() <= 6) {
      reason = FailureReason.fromExitCode(term.get().getExitCode()).reason();
      message = truncate(term.get().getMessage() == null ? reason : term.get().getMessage());
    } else {
      reason =
          jobReason.isEmpty() || "PodFailurePolicy".equals(jobReason)
              ? Reasons.BACKOFF_LIMIT_EXCEEDED
              : jobReason;
      message =
          "the trainer failed "
              + (s.restarts == null ? "" : s.restarts + " time(s), ")
              + "more than spec.backoffLimit="
              + o.job().getSpec().backoffLimit
              + " allows"
              + term.map(t -> t.getMessage() == null ? "" : ": " + truncate(t.getMessage()))
                  .orElse("");
    }
    s.error = error(reason, message, null);
    s.completionTime =
        s.completionTime != null
            ? s.completionTime
            : JobStates.condition(trainer, "Failed")
                .map(JobCondition::getLastTransitionTime)
                .orElse(o.now().toString());
    s.estimatedFinishTime = null;
    stalled(c, reason, message);
  }

  private static void stalled(ConditionSet c, String reason, String message) {
    c.set(Conditions.READY, FALSE, reason, message)
        .set(Conditions.RECONCILING, FALSE, reason, "")
        .set(Conditions.STALLED, TRUE, reason, message)
        .set(Conditions.ADMITTED, FALSE, reason, "")
        .set(Conditions.RUNNING, FALSE, reason, "")
        .set(Conditions.COMPLETE, FALSE, reason, "")
        .set(Conditions.FAILED, TRUE, reason, message)
        .set(Conditions.SUSPENDED, FALSE, reason, "");
  }

  private static void reconciling(ConditionSet c, String reason, String message) {
    c.set(Conditions.READY, FALSE, reason, message)
        .set(Conditions.RECONCILING, TRUE, reason, message)
        .set(Conditions.STALLED, FALSE, reason, "")
        .set(Conditions.COMPLETE, FALSE, reason, "")
        .set(Conditions.FAILED, FALSE, reason, "")
        .set(Conditions.SUSPENDED, FALSE, reason, "");
  }

  /** Copies the progress document into status; returns a warning when it cannot be read. */
  private static String mirrorProgress(Observed o, FineTuneJobStatus s) {
    if (o.progress() == null || o.progress().getData() == null) {
      return null;
    }
    String text = o.progress().getData().get(Contract.PROGRESS_KEY);
    if (text == null || text.isBlank()) {
      return null;
    }
    TrainerProgress p;
    try {
      p = Contract.read(text, TrainerProgress.class);
    } catch (ContractException e) {
      return "the progress ConfigMap holds an unreadable document ("
          + truncate(e.getMessage())
          + "); showing the last readable progress";
    }
    FineTuneJobStatus.Progress progress = new FineTuneJobStatus.Progress();
    progress.step = p.step();
    progress.totalSteps = p.totalSteps();
    progress.epoch = p.epoch();
    progress.trainedTokens = p.trainedTokens();
    progress.tokensPerSecond = p.tokensPerSecond();
    progress.lastUpdateTime = p.updatedAt();
    if (p.step() != null && p.totalSteps() != null && p.totalSteps() > 0) {
      progress.percent = Math.min(100, p.step() * 100 / p.totalSteps()) + "%";
    }
    s.progress = progress;
    FineTuneJobStatus.Metrics m = new FineTuneJobStatus.Metrics();
    m.trainLoss = p.trainLoss();
    m.learningRate = p.learningRate();
    if (p.latestEval() != null) {
      m.validLoss = p.latestEval().validLoss();
      m.validTokenAccuracy = p.latestEval().validTokenAccuracy();
    }
    s.metrics = m;
    if (p.baseline() != null) {
      s.baselineMetrics = metrics(p.baseline());
    }
    if (p.resolvedHyperparameters() != null) {
      Map<String, String> resolved = new LinkedHashMap<>();
      p.resolvedHyperparameters().forEach((k, v) -> resolved.put(k, String.valueOf(v)));
      s.resolvedHyperparameters = resolved;
    }
    if (p.dataset() != null) {
      s.datasetStats = stats(p.dataset());
    }
    if (p.checkpoints() != null) {
      List<FineTuneJobStatus.Checkpoint> checkpoints = new ArrayList<>();
      for (CheckpointInfo info : p.checkpoints()) {
        FineTuneJobStatus.Checkpoint cp = new FineTuneJobStatus.Checkpoint();
        cp.step = info.step();
        cp.path =
            TrainerConfigRenderer.artifactUri(info.path(), o.artifactClaim(), o.artifactSubPath());
        cp.validLoss = info.validLoss();
        checkpoints.add(cp);
      }
      s.checkpoints = checkpoints;
    }
    s.estimatedFinishTime = estimate(s.startTime, p);
    return null;
  }

  /** Linear extrapolation of the step rate since the trainer started. */
  static String estimate(String startTime, TrainerProgress p) {
    if (startTime == null
        || p.updatedAt() == null
        || p.step() == null
        || p.totalSteps() == null
        || p.step() <= 0) {
      return null;
    }
    try {
      Instant start = Instant.parse(startTime);
      Instant at = Instant.parse(p.updatedAt());
      long elapsed = Duration.between(start, at).toMillis();
      if (elapsed <= 0) {
        return null;
      }
      long remaining = Math.max(0, p.totalSteps() - p.step());
      return at.plusMillis(elapsed * remaining / p.step())
          .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
          .toString();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static TrainerResult result(List<Pod> pods) {
    for (Pod pod : JobStates.newestFirst(pods)) {
      Optional<ContainerStateTerminated> term = JobStates.terminated(pod);
      if (term.isPresent() && term.get().getMessage() != null) {
        try {
          return Contract.read(term.get().getMessage(), TrainerResult.class);
        } catch (ContractException e) {
          // Not a result document (the log tail of a crash): the next older pod may have one.
        }
      }
    }
    return null;
  }

  private static FineTuneJobStatus.Metrics metrics(EvalMetrics eval) {
    FineTuneJobStatus.Metrics m = new FineTuneJobStatus.Metrics();
    m.validLoss = eval.validLoss();
    m.validTokenAccuracy = eval.validTokenAccuracy();
    return m;
  }

  private static FineTuneJobStatus.DatasetStats stats(DatasetReport report) {
    FineTuneJobStatus.DatasetStats d = new FineTuneJobStatus.DatasetStats();
    d.format = report.format();
    d.trainExamples = report.trainExamples();
    d.validExamples = report.validExamples();
    d.totalTokens = report.totalTokens();
    d.truncatedExamples = report.truncatedExamples();
    d.errorCount = report.errorCount();
    if (!report.errors().isEmpty()) {
      List<FineTuneJobStatus.DatasetError> errors = new ArrayList<>();
      for (DatasetError e : report.errors()) {
        FineTuneJobStatus.DatasetError de = new FineTuneJobStatus.DatasetError();
        de.line = e.line();
        de.code = e.code() == null ? null : e.code().name();
        de.message = e.message() + (e.code() == null ? "" : " (" + e.code().hint() + ")");
        errors.add(de);
      }
      d.errors = errors;
    }
    return d;
  }

  private static FineTuneJobStatus.Error error(String code, String message, String field) {
    FineTuneJobStatus.Error e = new FineTuneJobStatus.Error();
    e.code = code;
    e.message = message;
    e.field = field;
    return e;
  }

  private static String joinProblems(List<SpecProblem> problems) {
    StringBuilder b = new StringBuilder();
    for (SpecProblem p : problems) {
      if (b.length() > 0) {
        b.append("; ");
      }
      b.append(p);
    }
    return truncate(b.toString());
  }

  private static String progressText(FineTuneJobStatus s) {
    if (s.progress == null || s.progress.step == null) {
      return "";
    }
    return ": step "
        + s.progress.step
        + (s.progress.totalSteps == null ? "" : "/" + s.progress.totalSteps);
  }

  private static String conditionMessage(FineTuneJobStatus old, String type) {
    if (old.conditions == null) {
      return "";
    }
    return old.conditions.stream()
        .filter(x -> type.equals(x.getType()))
        .map(x -> x.getMessage())
        .findFirst()
        .orElse("");
  }

  static String truncate(String text) {
    if (text == null) {
      return "";
    }
    String t = text.strip();
    return t.length() <= MAX_MESSAGE ? t : t.substring(0, MAX_MESSAGE) + "...";
  }
}
