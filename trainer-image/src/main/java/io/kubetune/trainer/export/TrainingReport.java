package io.kubetune.trainer.export;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.train.EvalRecord;
import io.kubetune.trainer.train.StepRecord;
import io.kubetune.trainer.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code training_report.json}, written next to the adapter (or, for full and partial fine-tuning,
 * the exported model): what was trained, how, on what, and how it went, so a user can judge the
 * output without the cluster that made it.
 *
 * @param schemaVersion 1
 * @param baseModel base model URI
 * @param adapter the exported adapter or model (path, digest, rank, kind)
 * @param lora the LoRA settings with the resolved module list; null for full and partial
 * @param hyperparameters resolved hyperparameters
 * @param dataset dataset statistics, when known
 * @param baseline evaluation before training
 * @param finalEval evaluation of the exported weights
 * @param best the evaluation with the lowest validation loss
 * @param restoredBest whether the exported weights are those of {@code best}
 * @param steps optimizer steps done
 * @param finalTrainLoss training loss of the last step
 * @param stepHistory per-step metrics
 * @param evalHistory every evaluation, baseline first
 * @param timings wall-clock figures
 * @param mixedPrecision loss scaling of an fp16 run, or null in fp32
 * @param footprint method, trainable parameters, optimizer state and base-weight bytes
 * @param trainableModules for partial: the tensors that trained; null otherwise
 * @param baseWeightMemory for qlora: the measured resident bytes of the NF4 base; null otherwise
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainingReport(
    int schemaVersion,
    String baseModel,
    AdapterInfo adapter,
    Lora lora,
    Map<String, Object> hyperparameters,
    DatasetReport dataset,
    EvalRecord baseline,
    EvalRecord finalEval,
    EvalRecord best,
    boolean restoredBest,
    long steps,
    double finalTrainLoss,
    List<StepRecord> stepHistory,
    List<EvalRecord> evalHistory,
    Timings timings,
    MixedPrecision mixedPrecision,
    MethodFootprint footprint,
    List<String> trainableModules,
    Map<String, Object> baseWeightMemory) {

  /** File name inside the adapter folder. */
  public static final String FILE = "training_report.json";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * LoRA settings.
   *
   * @param rank rank
   * @param alpha alpha
   * @param dropout dropout
   * @param useRslora rsLoRA scaling
   * @param targetModules the requested targets
   * @param modules the module names that got an adapter
   * @param trainableParameters trainable scalars
   */
  public record Lora(
      int rank,
      double alpha,
      double dropout,
      boolean useRslora,
      List<String> targetModules,
      List<String> modules,
      long trainableParameters) {

    /** The settings of an applied adapter. */
    public static Lora of(LoraAdapter adapter) {
      LoraConfig c = adapter.config();
      return new Lora(
          c.rank(),
          c.alpha(),
          c.dropout(),
          c.useRslora(),
          c.targetModules(),
          List.copyOf(adapter.layers().keySet()),
          adapter.parameterCount());
    }
  }

  /**
   * Loss scaling of an fp16 run.
   *
   * @param precision fp16
   * @param lossScale the final loss scale
   * @param skippedSteps steps whose update was skipped because the gradients overflowed
   */
  public record MixedPrecision(String precision, float lossScale, long skippedSteps) {}

  /**
   * Wall-clock figures.
   *
   * @param startedAt RFC 3339 start of the run
   * @param finishedAt RFC 3339 end of the run
   * @param totalSeconds start to end
   * @param trainSeconds time in optimizer steps
   * @param evalSeconds time in evaluations
   * @param trainedTokens tokens the optimizer saw
   * @param tokensPerSecond trained tokens per training second
   */
  public record Timings(
      String startedAt,
      String finishedAt,
      double totalSeconds,
      double trainSeconds,
      double evalSeconds,
      long trainedTokens,
      double tokensPerSecond) {}

  /** Assembles the report of a finished LoRA run. */
  public static TrainingReport of(
      TrainingResult result,
      LoraAdapter adapter,
      AdapterInfo exported,
      String baseModel,
      DatasetReport dataset,
      Instant startedAt,
      Instant finishedAt) {
    return of(
        result,
        Lora.of(adapter),
        new MethodFootprint(
            "lora",
            adapter.parameterCount(),
            null,
            2L * Float.BYTES * adapter.parameterCount(),
            null),
        null,
        null,
        exported,
        baseModel,
        dataset,
        startedAt,
        finishedAt);
  }

  /**
   * Assembles the report of a finished run of any method.
   *
   * @param lora LoRA settings, or null for full and partial
   * @param footprint what the method cost
   * @param trainableModules tensors that trained (partial), or null
   * @param baseWeightMemory NF4 base measurements (qlora), or null
   */
  public static TrainingReport of(
      TrainingResult result,
      Lora lora,
      MethodFootprint footprint,
      List<String> trainableModules,
      Map<String, Object> baseWeightMemory,
      AdapterInfo exported,
      String baseModel,
      DatasetReport dataset,
      Instant startedAt,
      Instant finishedAt) {
    Timings timings =
        new Timings(
            startedAt.toString(),
            finishedAt.toString(),
            Duration.between(startedAt, finishedAt).toMillis() / 1000.0,
            result.trainSeconds(),
            result.evalSeconds(),
            result.trainedTokens(),
            result.tokensPerSecond());
    return new TrainingReport(
        1,
        baseModel,
        exported,
        lora,
        hyperparameters(result),
        dataset,
        result.baseline(),
        result.finalEval(),
        result.best(),
        result.restoredBest(),
        result.steps(),
        result.finalTrainLoss(),
        result.stepHistory(),
        result.evalHistory(),
        timings,
        result.lossScale() == null
            ? null
            : new MixedPrecision(
                result.precision().value(), result.lossScale(), result.skippedSteps()),
        footprint,
        trainableModules,
        baseWeightMemory);
  }

  private static Map<String, Object> hyperparameters(TrainingResult result) {
    Map<String, Object> m = new LinkedHashMap<>(result.options().toMap(result.trainExamples()));
    m.put("precision", result.precision().value());
    return m;
  }

  /** Writes {@link #FILE} into {@code dir}, atomically. */
  public Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(FILE + ".tmp");
    JSON.writeValue(tmp.toFile(), this);
    return Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
  }

  /** Reads {@link #FILE} from {@code dir}. */
  public static TrainingReport read(Path dir) throws IOException {
    return JSON.readValue(dir.resolve(FILE).toFile(), TrainingReport.class);
  }
}
