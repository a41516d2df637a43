package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** Which layers train with method partial. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PartialSpec {
  /** How many of the top transformer layers train; the rest stay frozen. */
  @JsonPropertyDescription("How many of the top transformer layers train; the rest stay frozen.")
  @Required
  @Min(1)
  @Max(1024)
  public Integer trainableLayers;
}
