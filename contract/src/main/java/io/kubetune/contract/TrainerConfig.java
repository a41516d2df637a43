package io.kubetune.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The trainer's input: the operator renders it from a FineTuneJob into the {@code <job>-config}
 * ConfigMap (key {@link Contract#CONFIG_KEY}); the local quick start writes it by hand. Every path
 * is a path inside the trainer container: the operator mounts PVCs and ConfigMaps and rewrites
 * {@code pvc://} URIs to their mount points. A null field means "use the default" or, for
 * hyperparameters, "auto" (the trainer resolves it and reports the value).
 *
 * @param jobName FineTuneJob name, used to name outputs
 * @param namespace FineTuneJob namespace
 * @param baseModel where the base model comes from
 * @param dataset what to train on
 * @param method how to train
 * @param hyperparameters optimisation settings
 * @param output where the adapter and checkpoints go
 * @param checkpointing checkpoint policy
 * @param progress where progress is reported, when in a cluster
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainerConfig(
    String jobName,
    String namespace,
    BaseModel baseModel,
    Dataset dataset,
    Method method,
    Hyperparameters hyperparameters,
    Output output,
    Checkpointing checkpointing,
    Progress progress) {

  /**
   * The base model.
   *
   * @param uri {@code hf://org/name} or a local folder path (a mounted {@code pvc://})
   * @param revision hub revision (branch, tag or commit) for {@code hf://}
   * @param tokenEnv name of the environment variable that holds the hub token, if any
   * @param cacheDir where {@code hf://} downloads are cached
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record BaseModel(String uri, String revision, String tokenEnv, String cacheDir) {}

  /**
   * The dataset, as files in the container.
   *
   * @param train path of the training JSONL
   * @param validation path of the validation JSONL, or null to split
   * @param validationSplit fraction of train held out when {@code validation} is null
   * @param format auto, chat, instruction, completion or text
   * @param chatTemplate Jinja chat template overriding the tokenizer's
   * @param minExamples fewest training examples accepted
   * @param maxTokensPerExample longest example accepted, in tokens (null: no limit)
   * @param onError Fail or Warn
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Dataset(
      String train,
      String validation,
      Double validationSplit,
      String format,
      String chatTemplate,
      Integer minExamples,
      Integer maxTokensPerExample,
      String onError) {}

  /**
   * The fine-tuning method.
   *
   * @param type lora, qlora, full or partial
   * @param rank LoRA rank
   * @param alpha LoRA alpha
   * @param dropout LoRA dropout
   * @param targetModules HF module names or {@code all-linear}
   * @param useRslora scale by alpha/sqrt(rank) instead of alpha/rank
   * @param quantization nf4 for qlora
   * @param doubleQuant quantize the NF4 absmax constants too
   * @param trainableLayers for partial: how many top transformer layers train
   * @param trainableModules for partial: module names that train
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Method(
      String type,
      Integer rank,
      Double alpha,
      Double dropout,
      List<String> targetModules,
      Boolean useRslora,
      String quantization,
      Boolean doubleQuant,
      Integer trainableLayers,
      List<String> trainableModules) {}

  /**
   * Optimisation settings; null means auto.
   *
   * @param epochs passes over the training set
   * @param maxSteps optimizer steps (overrides epochs when set)
   * @param batchSize examples per micro-batch
   * @param gradientAccumulationSteps micro-batches per optimizer step
   * @param learningRate peak learning rate
   * @param lrScheduler linear, cosine or constant
   * @param warmupRatio fraction of steps with linear warm-up
   * @param weightDecay decoupled AdamW weight decay
   * @param maxGradNorm global gradient-norm clip (0 disables)
   * @param maxSeqLength tokens per example after truncation
   * @param packing pack several examples into one sequence
   * @param seed seed for initialisation, shuffling and dropout
   * @param evalEverySteps evaluate every N optimizer steps
   * @param precision auto, fp32 or fp16 (fp16 with an fp32 master copy of the trainable weights and
   *     dynamic loss scaling); auto is fp16 on a GPU and fp32 on a CPU
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Hyperparameters(
      Double epochs,
      Long maxSteps,
      Integer batchSize,
      Integer gradientAccumulationSteps,
      Double learningRate,
      String lrScheduler,
      Double warmupRatio,
      Double weightDecay,
      Double maxGradNorm,
      Integer maxSeqLength,
      Boolean packing,
      Long seed,
      Integer evalEverySteps,
      String precision) {

    /** The settings without a precision (auto), as before precision existed. */
    public Hyperparameters(
        Double epochs,
        Long maxSteps,
        Integer batchSize,
        Integer gradientAccumulationSteps,
        Double learningRate,
        String lrScheduler,
        Double warmupRatio,
        Double weightDecay,
        Double maxGradNorm,
        Integer maxSeqLength,
        Boolean packing,
        Long seed,
        Integer evalEverySteps) {
      this(
          epochs,
          maxSteps,
          batchSize,
          gradientAccumulationSteps,
          learningRate,
          lrScheduler,
          warmupRatio,
          weightDecay,
          maxGradNorm,
          maxSeqLength,
          packing,
          seed,
          evalEverySteps,
          null);
    }
  }

  /**
   * Outputs.
   *
   * @param adapterDir folder the adapter is exported to
   * @param checkpointDir folder checkpoints are written to
   * @param adapterName adapter name recorded in the report
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Output(String adapterDir, String checkpointDir, String adapterName) {}

  /**
   * Checkpoint policy.
   *
   * @param everySteps checkpoint every N optimizer steps
   * @param keepLast how many checkpoints to keep
   * @param resume Auto (resume from the newest complete checkpoint) or Never
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Checkpointing(Integer everySteps, Integer keepLast, String resume) {}

  /**
   * Where progress goes.
   *
   * @param configMap name of the progress ConfigMap, in {@code namespace}
   * @param minIntervalSeconds fewest seconds between two ConfigMap updates
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Progress(String configMap, Integer minIntervalSeconds) {}
}
