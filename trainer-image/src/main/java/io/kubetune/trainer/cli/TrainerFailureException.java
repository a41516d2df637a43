package io.kubetune.trainer.cli;

import io.kubetune.contract.FailureReason;

/**
 * A failure whose {@link FailureReason} is known where it happens, e.g. a diverged loss; the CLI
 * turns it into the exit code and termination message without guessing.
 */
public class TrainerFailureException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final FailureReason reason;

  /** Creates a failure with a user-facing one-line message. */
  public TrainerFailureException(FailureReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** Creates a failure with a user-facing one-line message and its cause. */
  public TrainerFailureException(FailureReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Why the trainer failed. */
  public FailureReason reason() {
    return reason;
  }
}
