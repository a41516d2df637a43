package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;

/** Dataset checks run before training. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatasetChecks {
  /** Fewest training examples accepted. */
  @JsonPropertyDescription("Fewest training examples accepted.")
  @Min(1)
  @Default("10")
  public Integer minExamples = 10;

  /** Longest example accepted, in tokens after templating; unset means no limit. */
  @JsonPropertyDescription(
      "Longest example accepted, in tokens after templating; unset means no limit (longer"
          + " examples are truncated to maxSeqLength).")
  @Min(1)
  public Integer maxTokensPerExample;

  /** Fail stops before training when any line is bad; Warn skips bad lines and reports them. */
  @JsonPropertyDescription(
      "Fail stops before training when any line is bad; Warn skips bad lines and reports them in"
          + " status.datasetStats.")
  @Default("Fail")
  public OnError onError = OnError.Fail;

  /** What to do with bad lines. */
  public enum OnError {
    Fail,
    Warn
  }
}
