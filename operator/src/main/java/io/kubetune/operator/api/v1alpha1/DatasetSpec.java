package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Training data, validation data and the checks run before any GPU is requested. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!(has(self.validation) && has(self.validationSplit))",
    message = "set either validation or validationSplit, not both",
    fieldPath = ".validationSplit")
public class DatasetSpec {
  /** Training examples. */
  @JsonPropertyDescription("Training examples, one JSON object per line.")
  @Required
  public DataSource train;

  /** Validation examples; when absent, validationSplit of train is held out. */
  @JsonPropertyDescription(
      "Validation examples; when absent, validationSplit of train is held out instead.")
  public DataSource validation;

  /** Fraction of train held out for validation when validation is absent (0 disables). */
  @JsonPropertyDescription(
      "Fraction of train held out for validation when validation is absent; 0 disables"
          + " evaluation. Defaults to 0.1 when neither is set.")
  @Min(0)
  @Max(0.5)
  public Double validationSplit;

  /** Dataset format; auto detects it from the first line. */
  @JsonPropertyDescription(
      "Dataset format: chat ({\"messages\":[{role,content}]}), instruction"
          + " ({\"prompt\",\"completion\"}), completion or text ({\"text\"}); auto detects it.")
  @Default("auto")
  public Format format = Format.AUTO;

  /** Jinja chat template overriding the tokenizer's, for chat data. */
  @JsonPropertyDescription(
      "Jinja chat template overriding the one in the base model's tokenizer_config.json.")
  @Size(max = 65536)
  public String chatTemplate;

  /** Checks run by the dataset validation pod before training. */
  @JsonPropertyDescription("Checks run by the dataset validation pod before training.")
  @Default("{}")
  public DatasetChecks checks = new DatasetChecks();

  /** Dataset formats. */
  public enum Format {
    @JsonProperty("auto")
    AUTO,
    @JsonProperty("chat")
    CHAT,
    @JsonProperty("instruction")
    INSTRUCTION,
    @JsonProperty("completion")
    COMPLETION,
    @JsonProperty("text")
    TEXT;

    /** The wire value. */
    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
