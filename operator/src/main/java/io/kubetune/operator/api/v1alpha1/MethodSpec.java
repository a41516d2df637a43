package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Locale;

/** The fine-tuning method. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.type != 'qlora' || has(self.quantization)",
    message = "type qlora needs quantization, for example quantization: {type: nf4}",
    fieldPath = ".quantization")
@ValidationRule(
    value = "!has(self.quantization) || self.type == 'qlora'",
    message = "quantization is only used by type qlora: remove it or set type: qlora",
    fieldPath = ".quantization")
@ValidationRule(
    value = "self.type != 'partial' || has(self.partial)",
    message = "type partial needs partial.trainableLayers",
    fieldPath = ".partial")
@ValidationRule(
    value = "!has(self.partial) || self.type == 'partial'",
    message = "partial is only used by type partial: remove it or set type: partial",
    fieldPath = ".partial")
@ValidationRule(
    value = "!has(self.lora) || self.type == 'lora' || self.type == 'qlora'",
    message = "lora is only used by types lora and qlora",
    fieldPath = ".lora")
public class MethodSpec {
  /** lora, qlora (LoRA on a 4-bit base), full or partial (top layers only). */
  @JsonPropertyDescription(
      "lora (low-rank adapters on a frozen base), qlora (LoRA on an NF4-quantized base), full"
          + " (all weights) or partial (only the top trainableLayers).")
  @Default("lora")
  public Type type = Type.LORA;

  /** LoRA settings for lora and qlora. */
  @JsonPropertyDescription("LoRA settings for lora and qlora; defaults apply when absent.")
  public LoraSpec lora;

  /** Base-weight quantization, required by qlora. */
  @JsonPropertyDescription("Base-weight quantization, required by qlora.")
  public QuantizationSpec quantization;

  /** Which layers train, required by partial. */
  @JsonPropertyDescription("Which layers train, required by partial.")
  public PartialSpec partial;

  /** Fine-tuning methods. */
  public enum Type {
    @JsonProperty("lora")
    LORA,
    @JsonProperty("qlora")
    QLORA,
    @JsonProperty("full")
    FULL,
    @JsonProperty("partial")
    PARTIAL;

    /** The wire value. */
    public String value() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Whether this method trains LoRA adapters. */
    public boolean usesLora() {
      return this == LORA || this == QLORA;
    }
  }
}
