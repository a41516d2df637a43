package io.kubetune.trainer.job;

import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.report.ProgressReporter;
import io.kubetune.trainer.train.EvalRecord;
import io.kubetune.trainer.train.StepRecord;
import io.kubetune.trainer.train.TrainingListener;
import java.util.List;
import java.util.Map;

/**
 * Turns the training loop's callbacks into complete {@link TrainerProgress} documents for the
 * {@link ProgressReporter}, which prints each one and throttles the ConfigMap updates.
 */
final class ProgressBridge implements TrainingListener {
  private final ProgressReporter reporter;
  private TrainerStage stage = TrainerStage.LOADING_MODEL;
  private Long step;
  private Long totalSteps;
  private Double epoch;
  private Long trainedTokens;
  private Double tokensPerSecond;
  private Double trainLoss;
  private Double learningRate;
  private EvalMetrics latestEval;
  private long latestEvalStep = -1;
  private EvalMetrics baseline;
  private Map<String, Object> resolved;
  private DatasetReport dataset;
  private List<CheckpointInfo> checkpoints;
  private Double lossScale;
  private Long skippedSteps;

  ProgressBridge(ProgressReporter reporter) {
    this.reporter = reporter;
  }

  /** Moves to a stage and reports. */
  void stage(TrainerStage s) {
    stage = s;
    publish();
  }

  void dataset(DatasetReport report) {
    dataset = report;
  }

  void resolved(Map<String, Object> hyperparameters, long total) {
    resolved = hyperparameters;
    totalSteps = total;
  }

  void checkpoints(List<CheckpointInfo> list) {
    checkpoints = list.isEmpty() ? null : List.copyOf(list);
  }

  /** The evaluation made after {@code atStep}, or null when none was. */
  EvalMetrics evalAt(long atStep) {
    return latestEval != null && latestEvalStep == atStep ? latestEval : null;
  }

  /** The validation loss measured after {@code atStep}, or null when none was. */
  Double validLossAt(long atStep) {
    return latestEval != null && latestEvalStep == atStep ? latestEval.validLoss() : null;
  }

  @Override
  public void onStageChange(TrainerStage s) {
    // The loop announces CHECKPOINTING for every step it offers to the checkpointer; only steps
    // that really write one are reported (by the runner).
    if (s != TrainerStage.CHECKPOINTING && s != stage) {
      stage(s);
    }
  }

  @Override
  public void onStep(StepRecord r) {
    step = r.step();
    totalSteps = r.totalSteps();
    epoch = r.epoch();
    trainedTokens = r.trainedTokens();
    tokensPerSecond = r.tokensPerSecond();
    trainLoss = r.trainLoss();
    learningRate = r.learningRate();
    lossScale = r.lossScale() == null ? null : r.lossScale().doubleValue();
    skippedSteps = r.lossScale() == null ? null : r.skippedSteps();
    publish();
  }

  @Override
  public void onEval(EvalRecord eval, boolean isBaseline) {
    EvalMetrics m = eval.toMetrics();
    latestEval = m;
    latestEvalStep = eval.step();
    if (isBaseline) {
      baseline = m;
    }
    publish();
  }

  @Override
  public void onCheckpoint(CheckpointInfo checkpoint) {
    // Reported by the runner's checkpointer, which knows whether it wrote one.
  }

  private void publish() {
    reporter.report(
        new TrainerProgress(
            Contract.SCHEMA_VERSION,
            stage,
            step,
            totalSteps,
            epoch,
            trainedTokens,
            tokensPerSecond,
            trainLoss,
            learningRate,
            latestEval,
            baseline,
            resolved,
            dataset,
            checkpoints,
            null,
            lossScale,
            skippedSteps));
  }
}
