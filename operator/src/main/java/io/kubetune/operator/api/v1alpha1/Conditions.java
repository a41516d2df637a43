package io.kubetune.operator.api.v1alpha1;

/** Condition types of kubetune resources. */
public final class Conditions {
  /**
   * kstatus: the resource reached its goal (FineTuneJob: succeeded; AdapterDeployment: serving).
   */
  public static final String READY = "Ready";

  /** kstatus: the operator is working towards the goal. */
  public static final String RECONCILING = "Reconciling";

  /** kstatus: progress stopped and needs a user action (the message says which). */
  public static final String STALLED = "Stalled";

  /** The dataset passed validation. */
  public static final String DATASET_VALIDATED = "DatasetValidated";

  /** The trainer Job is admitted (not queued in Kueue). */
  public static final String ADMITTED = "Admitted";

  /** A trainer pod is running. */
  public static final String RUNNING = "Running";

  /** Training finished and the adapter was exported. */
  public static final String COMPLETE = "Complete";

  /** Training failed for good. */
  public static final String FAILED = "Failed";

  /** The job is suspended by spec.suspend. */
  public static final String SUSPENDED = "Suspended";

  /** AdapterDeployment: the base model is loaded on the serving pods. */
  public static final String BASE_MODEL_READY = "BaseModelReady";

  /** AdapterDeployment: every enabled adapter is loaded on every ready pod. */
  public static final String ADAPTERS_READY = "AdaptersReady";

  /** AdapterDeployment: serving, but some replicas or adapters are missing. */
  public static final String DEGRADED = "Degraded";

  /** Condition status True. */
  public static final String TRUE = "True";

  /** Condition status False. */
  public static final String FALSE = "False";

  /** Condition status Unknown. */
  public static final String UNKNOWN = "Unknown";

  private Conditions() {}
}
