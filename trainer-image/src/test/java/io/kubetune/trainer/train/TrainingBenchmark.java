package io.kubetune.trainer.train;

import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.Benchmarks;
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
    List<TrainingExample> data = Benchmarks.readData(work);
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
      double setupRssMiB = Benchmarks.statusMiB("VmRSS:");
      TrainingResult result =
          Benchmarks.train(
              model,
              adapter.parameters(),
              adapter::setTraining,
              data,
              batch,
              warmup + steps,
              manager);
      List<StepRecord> history = result.stepHistory();
      Benchmarks.Measured measured = Benchmarks.afterWarmup(result, warmup);
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
          measured.tokensPerSecond(),
          measured.seconds(),
          measured.tokens(),
          perStep.get((perStep.size() - 1) / 2),
          perStep.get(perStep.size() - 1),
          measured.last().trainLoss(),
          setupRssMiB,
          Benchmarks.statusMiB("VmHWM:"));
    }
  }
}
