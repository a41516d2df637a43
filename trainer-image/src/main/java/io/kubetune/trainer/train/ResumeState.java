package io.kubetune.trainer.train;

import java.util.List;

/**
 * Where a killed run stopped: enough to continue it to the same result.
 *
 * @param step optimizer steps done
 * @param parameters trainable weights, in {@link FineTuner.TrainingJob#parameters()} order
 * @param expAvg AdamW first moments, same order
 * @param expAvgSq AdamW second moments, same order
 * @param scaler loss-scaler state of an fp16 run, or null
 */
public record ResumeState(
    long step,
    List<float[]> parameters,
    List<float[]> expAvg,
    List<float[]> expAvgSq,
    GradScaler.State scaler) {

  /** The state of an fp32 run (no loss scaler). */
  public ResumeState(
      long step, List<float[]> parameters, List<float[]> expAvg, List<float[]> expAvgSq) {
    this(step, parameters, expAvg, expAvgSq, null);
  }

  /** Optimizer updates applied so far: steps minus those skipped for overflowing gradients. */
  public long optimizerSteps() {
    return step - (scaler == null ? 0 : scaler.skippedSteps());
  }

  /** Checks that the lists line up. */
  public ResumeState {
    if (parameters.size() != expAvg.size() || parameters.size() != expAvgSq.size()) {
      throw new IllegalArgumentException("checkpoint holds inconsistent optimizer state");
    }
    parameters = List.copyOf(parameters);
    expAvg = List.copyOf(expAvg);
    expAvgSq = List.copyOf(expAvgSq);
  }
}
