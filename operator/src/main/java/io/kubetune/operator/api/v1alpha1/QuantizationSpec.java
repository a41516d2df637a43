package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** How the frozen base weights are quantized for qlora. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class QuantizationSpec {
  /** Quantization type; nf4 is 4-bit NormalFloat with block size 64. */
  @JsonPropertyDescription("Quantization type; nf4 is 4-bit NormalFloat with block size 64.")
  @Default("nf4")
  public Type type = Type.NF4;

  /** Quantize the per-block absmax constants too, saving about 0.4 bits per weight. */
  @JsonPropertyDescription(
      "Quantize the per-block absmax constants too, saving about 0.4 bits per weight.")
  @Default("true")
  public Boolean doubleQuant = true;

  /** Quantization types. */
  public enum Type {
    @JsonProperty("nf4")
    NF4
  }
}
