package io.kubetune.operator.api.v1alpha1;

/** Condition reasons (CamelCase) of kubetune resources. */
public final class Reasons {
  /** The spec contradicts itself or holds a value the operator cannot use. */
  public static final String SPEC_INVALID = "SpecInvalid";

  /** The dataset validation pod is running. */
  public static final String VALIDATING_DATASET = "ValidatingDataset";

  /** The dataset passed validation. */
  public static final String DATASET_VALID = "DatasetValid";

  /** The dataset failed validation. */
  public static final String DATASET_INVALID = "DatasetInvalid";

  /** The validation pod itself failed (not the dataset). */
  public static final String VALIDATION_ERROR = "ValidationError";

  /** The trainer Job waits for Kueue admission. */
  public static final String QUEUED = "Queued";

  /** The trainer Job is admitted. */
  public static final String ADMITTED = "Admitted";

  /** The trainer pod is not running yet. */
  public static final String TRAINER_PENDING = "TrainerPending";

  /** The trainer pod is running. */
  public static final String TRAINING = "Training";

  /** No node fits the trainer pod. */
  public static final String UNSCHEDULABLE = "Unschedulable";

  /** The trainer image cannot be pulled. */
  public static final String IMAGE_PULL_BACK_OFF = "ImagePullBackOff";

  /** The trainer keeps crashing. */
  public static final String CRASH_LOOP_BACK_OFF = "CrashLoopBackOff";

  /** The trainer container was killed for exceeding its memory limit. */
  public static final String OOM_KILLED = "OOMKilled";

  /** spec.activeDeadlineSeconds passed. */
  public static final String DEADLINE_EXCEEDED = "DeadlineExceeded";

  /** The trainer failed more than spec.backoffLimit times. */
  public static final String BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded";

  /** Training finished. */
  public static final String SUCCEEDED = "Succeeded";

  /** Suspended by spec.suspend. */
  public static final String SUSPENDED = "Suspended";

  /** The trainer's progress document could not be read. */
  public static final String PROGRESS_UNREADABLE = "ProgressUnreadable";

  /** Generic "not yet". */
  public static final String PENDING = "Pending";

  private Reasons() {}
}
