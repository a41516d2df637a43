package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** What to fine-tune, on what, how, and with which resources. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = FineTuneJobSpec.IMMUTABLE_RULE,
    message =
        "spec is immutable except suspend and activeDeadlineSeconds: create a new FineTuneJob"
            + " (or delete and recreate this one) to change anything else",
    reason = "FieldValueForbidden")
public class FineTuneJobSpec {
  /** CEL transition rule: every field except suspend and activeDeadlineSeconds keeps its value. */
  static final String IMMUTABLE_RULE =
      "(has(self.baseModel) == has(oldSelf.baseModel)) && (!has(self.baseModel) || self.baseModel == oldSelf.baseModel)"
          + " && (has(self.dataset) == has(oldSelf.dataset)) && (!has(self.dataset) || self.dataset == oldSelf.dataset)"
          + " && (has(self.method) == has(oldSelf.method)) && (!has(self.method) || self.method == oldSelf.method)"
          + " && (has(self.hyperparameters) == has(oldSelf.hyperparameters)) && (!has(self.hyperparameters) || self.hyperparameters == oldSelf.hyperparameters)"
          + " && (has(self.output) == has(oldSelf.output)) && (!has(self.output) || self.output == oldSelf.output)"
          + " && (has(self.checkpointing) == has(oldSelf.checkpointing)) && (!has(self.checkpointing) || self.checkpointing == oldSelf.checkpointing)"
          + " && (has(self.resources) == has(oldSelf.resources)) && (!has(self.resources) || self.resources == oldSelf.resources)"
          + " && (has(self.queueName) == has(oldSelf.queueName)) && (!has(self.queueName) || self.queueName == oldSelf.queueName)"
          + " && (has(self.image) == has(oldSelf.image)) && (!has(self.image) || self.image == oldSelf.image)"
          + " && (has(self.backoffLimit) == has(oldSelf.backoffLimit)) && (!has(self.backoffLimit) || self.backoffLimit == oldSelf.backoffLimit)";

  /** The model to start from. */
  @JsonPropertyDescription("The model to start from.")
  @Required
  public ModelSource baseModel;

  /** The examples to train on, and how they are checked before training. */
  @JsonPropertyDescription("The examples to train on, and how they are checked before training.")
  @Required
  public DatasetSpec dataset;

  /** The fine-tuning method (LoRA by default). */
  @JsonPropertyDescription("The fine-tuning method (LoRA by default).")
  @Default("{}")
  public MethodSpec method = new MethodSpec();

  /** Optimisation settings; most accept "auto" and the resolved values appear in status. */
  @JsonPropertyDescription(
      "Optimisation settings; most accept \"auto\" and the resolved values appear in"
          + " status.resolvedHyperparameters.")
  @Default("{}")
  public Hyperparameters hyperparameters = new Hyperparameters();

  /** Where the adapter goes; defaults to the namespace's artifact store volume. */
  @JsonPropertyDescription(
      "Where the adapter goes; defaults to the namespace's artifact store volume, mounted at"
          + " /artifacts.")
  public OutputSpec output;

  /** How often to checkpoint and whether a restarted trainer resumes. */
  @JsonPropertyDescription("How often to checkpoint and whether a restarted trainer resumes.")
  @Default("{}")
  public CheckpointingSpec checkpointing = new CheckpointingSpec();

  /** GPUs, CPU, memory and scheduling constraints of the trainer pod. */
  @JsonPropertyDescription("GPUs, CPU, memory and scheduling constraints of the trainer pod.")
  @Default("{}")
  public ResourcesSpec resources = new ResourcesSpec();

  /** Kueue LocalQueue; when set the trainer Job is created suspended for Kueue to admit. */
  @JsonPropertyDescription(
      "Kueue LocalQueue name. When set, the trainer Job is created suspended with the"
          + " kueue.x-k8s.io/queue-name label and starts when Kueue admits it.")
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  public String queueName;

  /** Trainer image override; defaults to the operator's configured trainer image. */
  @JsonPropertyDescription("Trainer image override; defaults to the operator's trainer image.")
  @Size(min = 1, max = 512)
  public String image;

  /** Stops the trainer while true; training resumes from the newest checkpoint when false. */
  @JsonPropertyDescription(
      "While true the trainer pod is stopped (its Job deleted); setting it back to false"
          + " starts a new trainer Job that resumes from the newest checkpoint.")
  @Default("false")
  public Boolean suspend = false;

  /** Limit on the trainer Job's running time, in seconds. */
  @JsonPropertyDescription(
      "Limit on the trainer Job's running time in seconds; the Job fails with"
          + " DeadlineExceeded when it passes.")
  @Min(1)
  public Long activeDeadlineSeconds;

  /** How many times a failed trainer pod is retried. */
  @JsonPropertyDescription("How many times a failed trainer pod is retried before the job fails.")
  @Min(0)
  @Max(100)
  @Default("3")
  public Integer backoffLimit = 3;
}
