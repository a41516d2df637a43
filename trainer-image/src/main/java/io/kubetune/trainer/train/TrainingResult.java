package io.kubetune.trainer.train;

import java.util.List;

/**
 * What a fine-tuning run did; the training report and the trainer result are built from it.
 *
 * @param options the resolved hyperparameters
 * @param totalSteps optimizer steps planned
 * @param steps optimizer steps done
 * @param trainExamples training examples
 * @param validationExamples validation examples
 * @param trainedTokens tokens seen by the optimizer
 * @param finalTrainLoss training loss of the last step
 * @param baseline evaluation before training, or null without validation data
 * @param best the evaluation with the lowest validation loss after training started, or null
 * @param finalEval evaluation of the weights the run ends with, or null without validation data
 * @param restoredBest whether the run ended by restoring the weights of {@code best}
 * @param stepHistory one record per optimizer step
 * @param evalHistory every evaluation, baseline first
 * @param trainSeconds seconds spent in training steps
 * @param evalSeconds seconds spent evaluating
 * @param tokensPerSecond training throughput ({@code trainedTokens / trainSeconds})
 * @param precision the precision the run trained in
 * @param lossScale the final fp16 loss scale, or null in fp32
 * @param skippedSteps steps whose update was skipped because fp16 gradients overflowed
 */
public record TrainingResult(
    TrainingOptions options,
    long totalSteps,
    long steps,
    int trainExamples,
    int validationExamples,
    long trainedTokens,
    double finalTrainLoss,
    EvalRecord baseline,
    EvalRecord best,
    EvalRecord finalEval,
    boolean restoredBest,
    List<StepRecord> stepHistory,
    List<EvalRecord> evalHistory,
    double trainSeconds,
    double evalSeconds,
    double tokensPerSecond,
    Precision precision,
    Float lossScale,
    long skippedSteps) {

  /** Copies the lists. */
  public TrainingResult {
    stepHistory = List.copyOf(stepHistory);
    evalHistory = List.copyOf(evalHistory);
  }
}
