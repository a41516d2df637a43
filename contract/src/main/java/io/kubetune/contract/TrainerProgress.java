package io.kubetune.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The progress document the trainer writes to the {@code <job>-progress} ConfigMap under {@link
 * Contract#PROGRESS_KEY}, and prints as one JSON line on stdout. The operator mirrors it into the
 * FineTuneJob status. Fields are null until known.
 *
 * @param schemaVersion {@link Contract#SCHEMA_VERSION}
 * @param stage what the trainer is doing
 * @param step optimizer steps done
 * @param totalSteps optimizer steps planned
 * @param epoch fractional epoch
 * @param trainedTokens tokens seen by the optimizer so far (restarts included)
 * @param tokensPerSecond recent training throughput
 * @param trainLoss mean training loss over the last logging window
 * @param learningRate the current learning rate
 * @param latestEval the most recent evaluation
 * @param baseline evaluation before any training step
 * @param resolvedHyperparameters hyperparameters after resolving {@code auto}
 * @param dataset dataset statistics
 * @param checkpoints complete checkpoints, oldest first
 * @param updatedAt RFC 3339 time of this document
 * @param lossScale current fp16 loss scale (null in fp32)
 * @param skippedSteps fp16 steps skipped so far because their gradients overflowed (null in fp32)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainerProgress(
    int schemaVersion,
    TrainerStage stage,
    Long step,
    Long totalSteps,
    Double epoch,
    Long trainedTokens,
    Double tokensPerSecond,
    Double trainLoss,
    Double learningRate,
    EvalMetrics latestEval,
    EvalMetrics baseline,
    Map<String, Object> resolvedHyperparameters,
    DatasetReport dataset,
    List<CheckpointInfo> checkpoints,
    String updatedAt,
    Double lossScale,
    Long skippedSteps) {

  /** A document without loss-scaling fields (fp32 runs). */
  public TrainerProgress(
      int schemaVersion,
      TrainerStage stage,
      Long step,
      Long totalSteps,
      Double epoch,
      Long trainedTokens,
      Double tokensPerSecond,
      Double trainLoss,
      Double learningRate,
      EvalMetrics latestEval,
      EvalMetrics baseline,
      Map<String, Object> resolvedHyperparameters,
      DatasetReport dataset,
      List<CheckpointInfo> checkpoints,
      String updatedAt) {
    this(
        schemaVersion,
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
        resolvedHyperparameters,
        dataset,
        checkpoints,
        updatedAt,
        null,
        null);
  }
}
