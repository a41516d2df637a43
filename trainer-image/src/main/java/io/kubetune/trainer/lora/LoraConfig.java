package io.kubetune.trainer.lora;

import io.kubetune.contract.TrainerConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What LoRA adapts and how: rank, alpha, dropout, target modules and rsLoRA scaling.
 *
 * <p>Target modules follow PEFT: a name matches a projection whose HF module name equals it or ends
 * with {@code "." + name}; {@link #ALL_LINEAR} selects every linear projection except the output
 * layer {@code lm_head}.
 *
 * @param rank LoRA rank {@code r}
 * @param alpha LoRA alpha; the update is scaled by {@code alpha / r} ({@code alpha / sqrt(r)} with
 *     rsLoRA)
 * @param dropout dropout probability on the LoRA input, in training only
 * @param targetModules module names (e.g. {@code q_proj}) or the single entry {@code all-linear}
 * @param useRslora whether to scale by {@code alpha / sqrt(r)}
 */
public record LoraConfig(
    int rank, double alpha, double dropout, List<String> targetModules, boolean useRslora) {

  /** PEFT's shorthand for every linear projection except the output layer. */
  public static final String ALL_LINEAR = "all-linear";

  /** The module PEFT never targets with {@link #ALL_LINEAR}. */
  public static final String OUTPUT_LAYER = "lm_head";

  /** Default targets when none are given: attention query and value, as PEFT does for Llama. */
  public static final List<String> DEFAULT_TARGETS = List.of("q_proj", "v_proj");

  /** Validates the values; every message names the field and how to fix it. */
  public LoraConfig {
    if (rank < 1) {
      throw new IllegalArgumentException(
          "method.rank must be at least 1 (got " + rank + "); typical values are 8 or 16");
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException(
          "method.alpha must be a positive number (got " + alpha + "); a common choice is 2*rank");
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException(
          "method.dropout must be in [0, 1) (got " + dropout + "); typical values are 0 to 0.1");
    }
    if (targetModules == null || targetModules.isEmpty()) {
      targetModules = DEFAULT_TARGETS;
    }
    for (String t : targetModules) {
      if (t == null || t.isBlank()) {
        throw new IllegalArgumentException(
            "method.targetModules contains an empty name; use names such as q_proj or all-linear");
      }
    }
    if (targetModules.contains(ALL_LINEAR) && targetModules.size() > 1) {
      throw new IllegalArgumentException(
          "method.targetModules: 'all-linear' must be the only entry (got " + targetModules + ")");
    }
    targetModules = List.copyOf(targetModules);
  }

  /** The factor the low-rank update is multiplied by. */
  public double scale() {
    return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds the config from the trainer contract, filling PEFT's defaults (rank 8, alpha 8, dropout
   * 0, q_proj and v_proj) where the contract leaves a value null.
   */
  public static LoraConfig fromContract(TrainerConfig.Method method) {
    Builder b = builder();
    if (method == null) {
      return b.build();
    }
    if (method.rank() != null) {
      b.setRank(method.rank());
    }
    if (method.alpha() != null) {
      b.optAlpha(method.alpha());
    } else if (method.rank() != null) {
      b.optAlpha(method.rank());
    }
    if (method.dropout() != null) {
      b.optDropout(method.dropout());
    }
    if (method.targetModules() != null) {
      b.optTargetModules(method.targetModules());
    }
    if (method.useRslora() != null) {
      b.optUseRslora(method.useRslora());
    }
    return b.build();
  }

  /**
   * Resolves the target modules against the projections of a model, in model order.
   *
   * @param moduleNames HF module names of every linear projection of the model
   * @return the names that get a LoRA adapter
   * @throws IllegalArgumentException when a target matches nothing; the message lists the valid
   *     names
   */
  public List<String> resolveTargets(Collection<String> moduleNames) {
    List<String> selected = new ArrayList<>();
    if (targetModules.equals(List.of(ALL_LINEAR))) {
      for (String name : moduleNames) {
        if (!suffix(name).equals(OUTPUT_LAYER)) {
          selected.add(name);
        }
      }
      return selected;
    }
    Set<String> unmatched = new TreeSet<>(targetModules);
    for (String name : moduleNames) {
      for (String target : targetModules) {
        if (name.equals(target) || name.endsWith("." + target)) {
          selected.add(name);
          unmatched.remove(target);
          break;
        }
      }
    }
    if (!unmatched.isEmpty()) {
      Set<String> valid = new TreeSet<>();
      for (String name : moduleNames) {
        valid.add(suffix(name));
      }
      valid.add(ALL_LINEAR);
      throw new IllegalArgumentException(
          "method.targetModules: "
              + unmatched
              + " match no linear layer of this model; valid names are "
              + valid);
    }
    return selected;
  }

  /** The module-type suffixes PEFT writes to {@code adapter_config.json} for these targets. */
  public static List<String> targetSuffixes(Collection<String> resolvedNames) {
    return List.copyOf(new TreeSet<>(resolvedNames.stream().map(LoraConfig::suffix).toList()));
  }

  private static String suffix(String moduleName) {
    int dot = moduleName.lastIndexOf('.');
    return dot < 0 ? moduleName : moduleName.substring(dot + 1);
  }

  /** Builder with PEFT's defaults. */
  public static final class Builder {
    private int rank = 8;
    private Double alpha;
    private double dropout;
    private List<String> targetModules = DEFAULT_TARGETS;
    private boolean useRslora;

    private Builder() {}

    /** Sets the rank. */
    public Builder setRank(int rank) {
      this.rank = rank;
      return this;
    }

    /** Sets alpha (default: PEFT's 8). */
    public Builder optAlpha(double alpha) {
      this.alpha = alpha;
      return this;
    }

    /** Sets the dropout on the LoRA input (default 0). */
    public Builder optDropout(double dropout) {
      this.dropout = dropout;
      return this;
    }

    /** Sets the target modules (default q_proj, v_proj). */
    public Builder optTargetModules(List<String> targetModules) {
      this.targetModules = targetModules;
      return this;
    }

    /** Scales by {@code alpha / sqrt(r)} instead of {@code alpha / r}. */
    public Builder optUseRslora(boolean useRslora) {
      this.useRslora = useRslora;
      return this;
    }

    /** Validates and builds. */
    public LoraConfig build() {
      return new LoraConfig(rank, alpha == null ? 8.0 : alpha, dropout, targetModules, useRslora);
    }
  }
}
