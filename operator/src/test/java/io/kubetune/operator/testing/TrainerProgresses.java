package io.kubetune.operator.testing;

import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerStage;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Progress documents as the trainer writes them. */
public final class TrainerProgresses {
  private TrainerProgresses() {}

  /**
   * A quarter through training: step 50 of 200, train loss 1.25, 1500 tokens/s, eval loss 1.4
   * against a baseline of 2.1, updated now.
   */
  public static TrainerProgress training(
      Map<String, Object> resolvedHyperparameters, List<CheckpointInfo> checkpoints) {
    return new TrainerProgress(
        Contract.SCHEMA_VERSION,
        TrainerStage.TRAINING,
        50L,
        200L,
        0.5,
        400000L,
        1500.0,
        1.25,
        1.8e-4,
        new EvalMetrics(1.4, 0.61),
        new EvalMetrics(2.1, 0.42),
        resolvedHyperparameters,
        null,
        checkpoints,
        Instant.now().toString());
  }
}
