package io.kubetune.trainer.train;

import io.kubetune.contract.FailureReason;

/** The training loss or gradient became NaN or infinite. */
public class TrainingDivergedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final long step;

  /** Creates the exception for the step at which divergence was detected. */
  public TrainingDivergedException(String message, long step) {
    super(message);
    this.step = step;
  }

  /** The optimizer step (1-based) that diverged. */
  public long step() {
    return step;
  }

  /** How the trainer reports it. */
  public FailureReason reason() {
    return FailureReason.TRAINING_DIVERGED;
  }
}
