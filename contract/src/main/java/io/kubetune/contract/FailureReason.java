package io.kubetune.contract;

/**
 * Why the trainer failed; becomes the FineTuneJob {@code Failed} condition reason. Each reason has
 * its own process exit code so the operator can tell them apart even without a termination message.
 */
public enum FailureReason {
  /** The trainer config is invalid (a bug in rendering or a hand-edited ConfigMap). */
  CONFIG_INVALID("ConfigInvalid", 2),
  /** The dataset failed validation. */
  DATASET_INVALID("DatasetInvalid", 3),
  /** The base model could not be found, downloaded or read. */
  MODEL_INVALID("ModelInvalid", 4),
  /** Training diverged (loss became NaN or infinite). */
  TRAINING_DIVERGED("TrainingDiverged", 5),
  /** The trainer ran out of memory. */
  OUT_OF_MEMORY("OutOfMemory", 6),
  /** Anything else; the message says what. */
  INTERNAL_ERROR("TrainerError", 1);

  private final String reason;
  private final int exitCode;

  FailureReason(String reason, int exitCode) {
    this.reason = reason;
    this.exitCode = exitCode;
  }

  /** The condition reason (CamelCase). */
  public String reason() {
    return reason;
  }

  /** The trainer process exit code. */
  public int exitCode() {
    return exitCode;
  }

  /** Maps an exit code back to a reason, or {@link #INTERNAL_ERROR} when unknown. */
  public static FailureReason fromExitCode(int exitCode) {
    for (FailureReason r : values()) {
      if (r.exitCode == exitCode) {
        return r;
      }
    }
    return INTERNAL_ERROR;
  }
}
