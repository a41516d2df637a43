package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What the operator observed; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FineTuneJobStatus {
  /** The spec generation this status describes. */
  @JsonPropertyDescription("The metadata.generation this status describes.")
  public Long observedGeneration;

  /** Summary of the conditions. */
  @JsonPropertyDescription(
      "Pending, Validating, Queued, Running, Succeeded, Failed or Suspended; the conditions hold"
          + " the details.")
  public Phase phase;

  /** Ready, Reconciling, Stalled, DatasetValidated, Admitted, Running, Complete, Failed, ... */
  @JsonPropertyDescription(
      "kstatus Ready/Reconciling/Stalled plus DatasetValidated, Admitted, Running, Complete,"
          + " Failed and Suspended, each with the generation it describes.")
  public List<Condition> conditions = new ArrayList<>();

  /** When the trainer pod first started. */
  @JsonPropertyDescription("When the trainer first started (RFC 3339).")
  public String startTime;

  /** When training succeeded or failed. */
  @JsonPropertyDescription("When training succeeded or failed (RFC 3339).")
  public String completionTime;

  /** Estimated finish at the current throughput. */
  @JsonPropertyDescription("Estimated finish time at the current step rate (RFC 3339).")
  public String estimatedFinishTime;

  /** Training progress mirrored from the trainer. */
  @JsonPropertyDescription("Training progress mirrored from the trainer's progress ConfigMap.")
  public Progress progress;

  /** Latest training and validation metrics. */
  @JsonPropertyDescription("Latest training and validation metrics.")
  public Metrics metrics;

  /** Validation metrics of the base model before training, for before/after comparison. */
  @JsonPropertyDescription(
      "Validation metrics of the base model before training, to compare with metrics.")
  public Metrics baselineMetrics;

  /** Hyperparameters after the trainer resolved "auto". */
  @JsonPropertyDescription("Hyperparameters after the trainer resolved \"auto\".")
  public Map<String, String> resolvedHyperparameters;

  /** What dataset validation found. */
  @JsonPropertyDescription("What dataset validation found, with the first errors by line.")
  public DatasetStats datasetStats;

  /** Complete checkpoints on the artifact store, oldest first. */
  @JsonPropertyDescription("Complete checkpoints on the artifact store, oldest first.")
  public List<Checkpoint> checkpoints;

  /** The adapter written on success. */
  @JsonPropertyDescription("The adapter written on success.")
  public Adapter adapter;

  /** Name of the trainer batch/v1 Job. */
  @JsonPropertyDescription("Name of the trainer batch/v1 Job, once created.")
  public String trainerJobRef;

  /** Failed trainer pods so far. */
  @JsonPropertyDescription("Failed trainer pods so far (each retry resumes from a checkpoint).")
  public Integer restarts;

  /** The error that stopped the job, if any. */
  @JsonPropertyDescription("The error that stopped the job, with the field to fix when known.")
  public Error error;

  /** Lifecycle summary. */
  public enum Phase {
    Pending,
    Validating,
    Queued,
    Running,
    Succeeded,
    Failed,
    Suspended
  }

  /** Training progress. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Progress {
    /** Optimizer steps done. */
    @JsonPropertyDescription("Optimizer steps done.")
    public Long step;

    /** Optimizer steps planned. */
    @JsonPropertyDescription("Optimizer steps planned.")
    public Long totalSteps;

    /** Fractional epoch. */
    @JsonPropertyDescription("Fractional epoch.")
    public Double epoch;

    /** Percent of steps done. */
    @JsonPropertyDescription("Percent of planned steps done, such as 42%.")
    public String percent;

    /** Tokens trained on so far. */
    @JsonPropertyDescription("Tokens trained on so far.")
    public Long trainedTokens;

    /** Recent throughput. */
    @JsonPropertyDescription("Recent training throughput in tokens per second.")
    public Double tokensPerSecond;

    /** When the trainer last reported. */
    @JsonPropertyDescription("When the trainer last reported (RFC 3339).")
    public String lastUpdateTime;
  }

  /** Loss and accuracy figures. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Metrics {
    /** Mean training loss over the last logging window. */
    @JsonPropertyDescription("Mean training loss over the last logging window.")
    public Double trainLoss;

    /** Validation loss. */
    @JsonPropertyDescription("Mean cross-entropy on the validation set (completion tokens).")
    public Double validLoss;

    /** Validation token accuracy. */
    @JsonPropertyDescription("Fraction of validation completion tokens predicted exactly.")
    public Double validTokenAccuracy;

    /** Current learning rate. */
    @JsonPropertyDescription("Current learning rate.")
    public Double learningRate;
  }

  /** Dataset statistics and errors. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class DatasetStats {
    /** Detected or declared format. */
    @JsonPropertyDescription("Detected or declared format.")
    public String format;

    /** Training examples. */
    @JsonPropertyDescription("Training examples.")
    public Long trainExamples;

    /** Validation examples. */
    @JsonPropertyDescription("Validation examples.")
    public Long validExamples;

    /** Tokens over all examples. */
    @JsonPropertyDescription("Tokens over all examples after templating.")
    public Long totalTokens;

    /** Examples cut to maxSeqLength. */
    @JsonPropertyDescription("Examples cut to maxSeqLength.")
    public Long truncatedExamples;

    /** All problems found; errors lists only the first ones. */
    @JsonPropertyDescription("All problems found; errors lists only the first ones.")
    public Long errorCount;

    /** The first problems, by line. */
    @JsonPropertyDescription("The first problems, by line, with how to fix them.")
    public List<DatasetError> errors;
  }

  /** One dataset problem. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class DatasetError {
    /** 1-based line number, 0 for dataset-level problems. */
    @JsonPropertyDescription("1-based line number in the file; 0 for dataset-level problems.")
    public Long line;

    /** Error code. */
    @JsonPropertyDescription("Error code, such as MALFORMED_JSON or NO_ASSISTANT_TURN.")
    public String code;

    /** What is wrong and how to fix it. */
    @JsonPropertyDescription("What is wrong and how to fix it.")
    public String message;
  }

  /** A checkpoint. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Checkpoint {
    /** Step it was taken after. */
    @JsonPropertyDescription("Optimizer step the checkpoint was taken after.")
    public Long step;

    /** Folder on the artifact store. */
    @JsonPropertyDescription("Folder of the checkpoint on the artifact volume.")
    public String path;

    /** Validation loss at that step. */
    @JsonPropertyDescription("Validation loss at that step, when evaluated.")
    public Double validLoss;
  }

  /** The trained adapter. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Adapter {
    /** Folder of the PEFT adapter, or of the full model for method.type full and partial. */
    @JsonPropertyDescription(
        "Folder of the PEFT adapter (adapter_config.json, adapter_model.safetensors) on the"
            + " artifact volume; for method.type full or partial (kind model), the folder of the"
            + " fine-tuned Hugging Face model (config.json, model*.safetensors, tokenizer).")
    public String path;

    /** sha256 digest of the adapter files, or of the model files for kind model. */
    @JsonPropertyDescription(
        "sha256:<hex> over adapter_config.json and adapter_model.safetensors; for kind model,"
            + " over config.json and the model*.safetensors files in name order.")
    public String digest;

    /** adapter or model. */
    @JsonPropertyDescription(
        "What was written: adapter (a PEFT LoRA adapter, methods lora and qlora) or model (a full"
            + " Hugging Face model, methods full and partial, which AdapterDeployments cannot"
            + " hot-load). Absent means adapter.")
    public String kind;

    /** LoRA rank. */
    @JsonPropertyDescription("LoRA rank of the adapter; absent for a full model.")
    public Integer rank;

    /** Base model the adapter belongs to. */
    @JsonPropertyDescription("Base model URI the adapter was trained on.")
    public String baseModel;
  }

  /** Why the job stopped. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Error {
    /** Machine-readable reason. */
    @JsonPropertyDescription("Machine-readable reason, the same as the Failed condition's.")
    public String code;

    /** What happened and how to fix it. */
    @JsonPropertyDescription("What happened and how to fix it.")
    public String message;

    /** The spec field at fault. */
    @JsonPropertyDescription("The spec field at fault, such as spec.method.lora.rank.")
    public String field;
  }
}
