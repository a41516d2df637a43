package io.kubetune.trainer.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Our side of {@code bench/trainer/run.sh}: LoRA training throughput and peak RSS on the model and
 * data the script prepared. Prints one JSON line. Not a test: timings are never asserted.
 */
public final class TrainingBenchmark {

  private TrainingBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args work dir, threads, batch size, warm-up steps, measured steps, LoRA rank
   */
  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    int batch = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int steps = Integer.parseInt(args[4]);
    int rank = Integer.parseInt(args[5]);
    List<TrainingExample> data = new ArrayList<>();
    for (JsonNode e : new ObjectMapper().readTree(work.resolve("data.json").toFile())) {
      data.add(new TrainingExample(ints(e.get("input_ids")), ints(e.get("labels"))));
    }
    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(work.resolve("model"), manager)) {
      LoraConfig config =
          LoraConfig.builder()
              .setRank(rank)
              .optAlpha(2.0 * rank)
              .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
              .build();
      LoraAdapter adapter =
          LoraAdapter.apply(config, model.linears(), model::replaceLinear, manager, 0);
      double setupRssMiB = statusMiB("VmRSS:");
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(CausalLm.of(model))
                  .setParameters(adapter.parameters())
                  .optTrainingMode(adapter::setTraining)
                  .setTrainData(data)
                  .setOptions(
                      TrainingOptions.builder()
                          .optMaxSteps(warmup + steps)
                          .optBatchSize(batch)
                          .optShuffle(false)
                          .optLearningRate(1e-4)
                          .optLrScheduler(LrSchedule.Type.CONSTANT)
                          .optMaxSeqLength(0)
                          .build())
                  .setManager(manager)
                  .build());
      List<StepRecord> history = result.stepHistory();
      StepRecord before = history.get(warmup - 1);
      StepRecord last = history.get(history.size() - 1);
      long tokens = last.trainedTokens() - before.trainedTokens();
      double seconds = last.elapsedSeconds() - before.elapsedSeconds();
      List<Double> perStep = new ArrayList<>();
      for (int i = warmup; i < history.size(); i++) {
        StepRecord s = history.get(i);
        StepRecord p = history.get(i - 1);
        perStep.add(
            (s.trainedTokens() - p.trainedTokens()) / (s.elapsedSeconds() - p.elapsedSeconds()));
      }
      perStep.sort(null);
      System.out.printf(
          "{\"tokensPerSecond\": %.3f, \"seconds\": %.3f, \"tokens\": %d,"
              + " \"medianStepTokensPerSecond\": %.3f, \"bestStepTokensPerSecond\": %.3f,"
              + " \"finalLoss\": %.6f, \"setupRssMiB\": %.1f, \"peakRssMiB\": %.1f}%n",
          tokens / seconds,
          seconds,
          tokens,
          perStep.get((perStep.size() - 1) / 2),
          perStep.get(perStep.size() - 1),
          last.trainLoss(),
          setupRssMiB,
          statusMiB("VmHWM:"));
    }
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  /**
   * A memory figure of this process from {@code /proc/self/status}: {@code VmRSS:} (resident now)
   * or {@code VmHWM:} (peak resident set, the same figure as Python's ru_maxrss).
   */
  private static double statusMiB(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }
}
