package io.kubetune.trainer.train;

import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.TrainerStage;

/**
 * Receives progress from {@link FineTuner}; the progress reporter turns it into {@code
 * TrainerProgress} documents. Calls come from the training thread, so implementations should be
 * quick (throttle I/O themselves).
 */
public interface TrainingListener {

  /** A listener that ignores everything. */
  TrainingListener NONE = new TrainingListener() {};

  /** The trainer moved to another stage (EVALUATING, TRAINING, CHECKPOINTING...). */
  default void onStageChange(TrainerStage stage) {}

  /** An optimizer step finished. */
  default void onStep(StepRecord step) {}

  /**
   * An evaluation finished.
   *
   * @param eval the result
   * @param baseline true for the evaluation before the first step
   */
  default void onEval(EvalRecord eval, boolean baseline) {}

  /** A checkpoint was written completely. */
  default void onCheckpoint(CheckpointInfo checkpoint) {}
}
