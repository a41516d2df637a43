package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** LoRA adapter shape. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.targetModules) || self.targetModules.all(m, m in ['q_proj', 'k_proj',"
            + " 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'all-linear'])",
    message =
        "targetModules may only name q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,"
            + " down_proj or all-linear",
    fieldPath = ".targetModules")
public class LoraSpec {
  /** Module names a Llama-family model has, plus PEFT's all-linear shortcut. */
  public static final List<String> KNOWN_MODULES =
      List.of(
          "q_proj",
          "k_proj",
          "v_proj",
          "o_proj",
          "gate_proj",
          "up_proj",
          "down_proj",
          "all-linear");

  /** LoRA rank r. */
  @JsonPropertyDescription("LoRA rank r: the inner dimension of each adapter pair (1-512).")
  @Min(1)
  @Max(512)
  @Default("8")
  public Integer rank = 8;

  /** LoRA alpha; the update is scaled by alpha/rank (alpha/sqrt(rank) with rsLoRA). */
  @JsonPropertyDescription(
      "LoRA alpha; the adapter update is scaled by alpha/rank (alpha/sqrt(rank) with"
          + " useRslora).")
  @Min(value = 0, inclusive = false)
  @Max(4096)
  @Default("16")
  public Double alpha = 16.0;

  /** Dropout on the adapter input during training. */
  @JsonPropertyDescription("Dropout probability on the adapter input during training.")
  @Min(0)
  @Max(value = 1, inclusive = false)
  @Default("0.05")
  public Double dropout = 0.05;

  /** Projections that get adapters. */
  @JsonPropertyDescription(
      "Projections that get adapters: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,"
          + " down_proj, or all-linear for all of them. Default: q_proj, v_proj.")
  @Size(min = 1, max = 8)
  public List<String> targetModules = new ArrayList<>(List.of("q_proj", "v_proj"));

  /** Scale by alpha/sqrt(rank) (rank-stabilised LoRA). */
  @JsonPropertyDescription("Scale by alpha/sqrt(rank) instead of alpha/rank (rsLoRA).")
  @Default("false")
  public Boolean useRslora = false;
}
