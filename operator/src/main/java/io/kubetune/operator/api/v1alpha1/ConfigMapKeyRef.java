package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A key of a ConfigMap in the FineTuneJob's namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConfigMapKeyRef {
  /** ConfigMap name. */
  @JsonPropertyDescription("ConfigMap name, in the same namespace.")
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  public String name;

  /** Key holding the JSONL data. */
  @JsonPropertyDescription("Key holding the JSONL data.")
  @Default("data.jsonl")
  @Pattern("^[-._a-zA-Z0-9]+$")
  public String key = "data.jsonl";

  public ConfigMapKeyRef() {}

  public ConfigMapKeyRef(String name, String key) {
    this.name = name;
    this.key = key;
  }
}
