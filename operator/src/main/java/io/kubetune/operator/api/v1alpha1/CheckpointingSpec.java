package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Checkpoint policy. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointingSpec {
  /** Checkpoint every N optimizer steps. */
  @JsonPropertyDescription("Checkpoint every N optimizer steps.")
  @Min(1)
  @Default("100")
  public Integer everySteps = 100;

  /** How many checkpoints to keep (the best one is kept too). */
  @JsonPropertyDescription("How many recent checkpoints to keep; the best one is kept as well.")
  @Min(1)
  @Max(100)
  @Default("3")
  public Integer keepLast = 3;

  /** Auto resumes a restarted or resumed trainer from the newest checkpoint; Never starts over. */
  @JsonPropertyDescription(
      "Auto resumes a restarted or resumed trainer from the newest complete checkpoint; Never"
          + " starts over.")
  @Default("Auto")
  public Resume resume = Resume.Auto;

  /** Resume policies. */
  public enum Resume {
    Auto,
    Never
  }
}
