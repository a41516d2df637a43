package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;

/**
 * Optimisation settings.
 *
 * <p>Settings that may be {@code "auto"} come in two shapes, following Kubernetes API conventions
 * (which avoid floats): integer settings are int-or-string (a number or {@code "auto"}), decimal
 * settings are strings holding a decimal number or {@code "auto"} (write {@code learningRate:
 * "2e-4"}, quoted). The trainer resolves {@code auto} and reports the values in {@code
 * status.resolvedHyperparameters}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = Hyperparameters.INT_OR_AUTO_RULE,
    message =
        "batchSize, gradientAccumulationSteps, maxSeqLength and evalEverySteps must be a"
            + " positive integer or \"auto\"")
public class Hyperparameters {
  /** A decimal number or auto. */
  public static final String DECIMAL_OR_AUTO =
      "^(auto|[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?|\\.[0-9]+([eE][-+]?[0-9]+)?)$";

  static final String INT_OR_AUTO_RULE =
      "(!has(self.batchSize) || (type(self.batchSize) == string ? self.batchSize == 'auto' :"
          + " self.batchSize >= 1))"
          + " && (!has(self.gradientAccumulationSteps) || (type(self.gradientAccumulationSteps)"
          + " == string ? self.gradientAccumulationSteps == 'auto' :"
          + " self.gradientAccumulationSteps >= 1))"
          + " && (!has(self.maxSeqLength) || (type(self.maxSeqLength) == string ?"
          + " self.maxSeqLength == 'auto' : self.maxSeqLength >= 1))"
          + " && (!has(self.evalEverySteps) || (type(self.evalEverySteps) == string ?"
          + " self.evalEverySteps == 'auto' : self.evalEverySteps >= 1))";

  /** The value meaning "let the trainer choose". */
  public static final String AUTO = "auto";

  /** Passes over the training set (a decimal number or auto); ignored when maxSteps is set. */
  @JsonPropertyDescription(
      "Passes over the training set, a decimal string such as \"3\" or \"auto\"; ignored when"
          + " maxSteps is set.")
  @Pattern(DECIMAL_OR_AUTO)
  @Default("auto")
  public String epochs = AUTO;

  /** Optimizer steps to run; overrides epochs. */
  @JsonPropertyDescription("Optimizer steps to run; overrides epochs when set.")
  @Min(1)
  public Long maxSteps;

  /** Examples per micro-batch (integer or auto). */
  @JsonPropertyDescription("Examples per micro-batch: an integer or \"auto\".")
  @Default("auto")
  public IntOrString batchSize = new IntOrString(AUTO);

  /** Micro-batches per optimizer step (integer or auto). */
  @JsonPropertyDescription("Micro-batches accumulated per optimizer step: an integer or \"auto\".")
  @Default("auto")
  public IntOrString gradientAccumulationSteps = new IntOrString(AUTO);

  /** Peak learning rate, a decimal string or auto. */
  @JsonPropertyDescription("Peak learning rate, a decimal string such as \"2e-4\" or \"auto\".")
  @Pattern(DECIMAL_OR_AUTO)
  @Default("auto")
  public String learningRate = AUTO;

  /** Learning-rate schedule after warm-up. */
  @JsonPropertyDescription("Learning-rate schedule after warm-up: linear, cosine or constant.")
  @Default("cosine")
  public LrScheduler lrScheduler = LrScheduler.COSINE;

  /** Fraction of steps with linear warm-up, a decimal string or auto. */
  @JsonPropertyDescription(
      "Fraction of steps with linear warm-up, a decimal string such as \"0.03\" or \"auto\".")
  @Pattern(DECIMAL_OR_AUTO)
  @Default("auto")
  public String warmupRatio = AUTO;

  /** Decoupled AdamW weight decay. */
  @JsonPropertyDescription("Decoupled AdamW weight decay.")
  @Min(0)
  @Max(1)
  @Default("0")
  public Double weightDecay = 0.0;

  /** Global gradient-norm clip; 0 disables clipping. */
  @JsonPropertyDescription("Global gradient-norm clip; 0 disables clipping.")
  @Min(0)
  @Default("1")
  public Double maxGradNorm = 1.0;

  /** Tokens per example after truncation (integer or auto: the model's context, capped). */
  @JsonPropertyDescription(
      "Tokens per example after truncation: an integer or \"auto\" (the longest example, capped"
          + " by the model's context length).")
  @Default("auto")
  public IntOrString maxSeqLength = new IntOrString(AUTO);

  /** Pack several short examples into one sequence. */
  @JsonPropertyDescription("Pack several short examples into one sequence.")
  @Default("false")
  public Boolean packing = false;

  /** Seed for initialisation, shuffling and dropout; same seed and data give the same adapter. */
  @JsonPropertyDescription(
      "Seed for initialisation, shuffling and dropout; the same seed and data give the same"
          + " adapter.")
  @Min(0)
  @Default("42")
  public Long seed = 42L;

  /** Evaluate on the validation set every N optimizer steps (integer or auto). */
  @JsonPropertyDescription(
      "Evaluate on the validation set every N optimizer steps: an integer or \"auto\".")
  @Default("auto")
  public IntOrString evalEverySteps = new IntOrString(AUTO);

  /**
   * Numeric precision of training: auto (fp16 when the trainer has a GPU, fp32 on CPU), fp32, or
   * fp16 (frozen base weights held in fp16, trainable weights kept as fp32 master copies, dynamic
   * loss scaling that skips steps whose gradients overflow). bf16 is not offered: the trainer's
   * engine cannot run it.
   */
  @JsonPropertyDescription(
      "Numeric precision of training: auto (fp16 when the trainer has a GPU, fp32 on CPU), fp32,"
          + " or fp16 (frozen base weights held in fp16, trainable weights kept as fp32 master"
          + " copies, dynamic loss scaling that skips steps whose gradients overflow). bf16 is not"
          + " offered: the trainer's engine cannot run it.")
  @Default("auto")
  public Precision precision = Precision.AUTO;

  /** Training precisions. */
  public enum Precision {
    @JsonProperty("auto")
    AUTO,
    @JsonProperty("fp32")
    FP32,
    @JsonProperty("fp16")
    FP16;

    /** The wire value. */
    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Learning-rate schedules. */
  public enum LrScheduler {
    @JsonProperty("linear")
    LINEAR,
    @JsonProperty("cosine")
    COSINE,
    @JsonProperty("constant")
    CONSTANT;

    /** The wire value. */
    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
