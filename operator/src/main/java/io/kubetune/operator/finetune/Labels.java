package io.kubetune.operator.finetune;

import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import java.util.LinkedHashMap;
import java.util.Map;

/** Labels and names of the objects a FineTuneJob owns. */
public final class Labels {
  /** Marks objects the operator manages; informers select on it to keep caches small. */
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";

  /** Value of {@link #MANAGED_BY}. */
  public static final String OPERATOR = "kubetune-operator";

  /** The owning FineTuneJob's name; maps pods back to their FineTuneJob. */
  public static final String FINETUNEJOB = "kubetune.io/finetunejob";

  /** What the object is for: config, progress, validation, trainer, rbac. */
  public static final String COMPONENT = "kubetune.io/component";

  /** Kueue's queue label on the trainer Job. */
  public static final String KUEUE_QUEUE = "kueue.x-k8s.io/queue-name";

  /** Annotation on the validation Job: the FineTuneJob generation it validated. */
  public static final String VALIDATED_GENERATION = "kubetune.io/validated-generation";

  static final String SELECT_MANAGED = MANAGED_BY + "=" + OPERATOR;

  /** Components. */
  static final String CONFIG = "config";

  static final String PROGRESS = "progress";
  static final String VALIDATION = "validation";
  static final String TRAINER = "trainer";
  static final String RBAC = "rbac";

  private Labels() {}

  /** The labels of an object of {@code component} owned by {@code job}. */
  public static Map<String, String> of(FineTuneJob job, String component) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY, OPERATOR);
    labels.put(FINETUNEJOB, job.getMetadata().getName());
    labels.put(COMPONENT, component);
    return labels;
  }

  static String selector(String component) {
    return SELECT_MANAGED + "," + COMPONENT + "=" + component;
  }

  /** Name of the trainer batch/v1 Job. */
  public static String trainerJobName(FineTuneJob job) {
    return job.getMetadata().getName() + "-trainer";
  }

  /** Name of the dataset validation Job. */
  public static String validationJobName(FineTuneJob job) {
    return job.getMetadata().getName() + "-validate";
  }

  /** Name of the trainer's ServiceAccount, Role and RoleBinding. */
  public static String trainerAccountName(FineTuneJob job) {
    return job.getMetadata().getName() + "-trainer";
  }
}
