package io.kubetune.trainer.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.StepRecord;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the trainer benchmarks behind {@code bench/trainer*} share: the prepared data, the timed
 * training run and this process's memory figures, so that every script measures the same way.
 */
public final class Benchmarks {

  private Benchmarks() {}

  /** The tokenized examples a bench script prepared in {@code WORK/data.json}. */
  public static List<TrainingExample> readData(Path work) throws IOException {
    List<TrainingExample> data = new ArrayList<>();
    for (JsonNode e : new ObjectMapper().readTree(work.resolve("data.json").toFile())) {
      data.add(new TrainingExample(ints(e.get("input_ids")), ints(e.get("labels"))));
    }
    return data;
  }

  /**
   * Trains {@code parameters} for {@code steps} steps (warm-up included) in data order at a
   * constant learning rate of 1e-4, without truncating sequences.
   */
  public static TrainingResult train(
      LlamaModel model,
      List<NDArray> parameters,
      Consumer<Boolean> trainingMode,
      List<TrainingExample> data,
      int batch,
      int steps,
      NDManager manager) {
    return FineTuner.run(
        FineTuner.TrainingJob.builder()
            .setModel(CausalLm.of(model))
            .setParameters(parameters)
            .optTrainingMode(trainingMode)
            .setTrainData(data)
            .setOptions(
                TrainingOptions.builder()
                    .optMaxSteps(steps)
                    .optBatchSize(batch)
                    .optShuffle(false)
                    .optLearningRate(1e-4)
                    .optLrScheduler(LrSchedule.Type.CONSTANT)
                    .optMaxSeqLength(0)
                    .build())
            .setManager(manager)
            .build());
  }

  /**
   * The steps after the first {@code warmup}: tokens trained, seconds taken and the last step.
   *
   * @param tokens tokens trained after the warm-up
   * @param seconds seconds the steps after the warm-up took
   * @param last the last step
   */
  public record Measured(long tokens, double seconds, StepRecord last) {

    /** Tokens per second after the warm-up. */
    public double tokensPerSecond() {
      return tokens / seconds;
    }
  }

  /** The part of {@code result} after the first {@code warmup} steps. */
  public static Measured afterWarmup(TrainingResult result, int warmup) {
    List<StepRecord> history = result.stepHistory();
    StepRecord before = history.get(warmup - 1);
    StepRecord last = history.get(history.size() - 1);
    return new Measured(
        last.trainedTokens() - before.trainedTokens(),
        last.elapsedSeconds() - before.elapsedSeconds(),
        last);
  }

  /** Writing 5 to clear_refs resets VmHWM (Linux 4.0+); false where that is not allowed. */
  public static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /**
   * A memory figure of this process from {@code /proc/self/status}, in MiB: {@code VmRSS:}
   * (resident now) or {@code VmHWM:} (peak resident set, the same figure as Python's ru_maxrss).
   */
  public static double statusMiB(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
