package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.Benchmarks;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingResult;
import java.nio.file.Path;
import java.util.List;

/**
 * Our side of {@code bench/trainer-full/run.sh}: LoRA, partial and full fine-tuning of the same
 * ~31M-parameter Llama ({@code QloraBenchmark prepare} writes it and the data), one method per JVM
 * so each peak RSS is its own. The method is set up by {@link TrainingMethods#create}, exactly as
 * {@code train --config} does, and trained by {@link FineTuner}. Prints one JSON line. Not a test:
 * nothing is asserted on timings.
 *
 * <pre>
 * run WORK lora|partial|full THREADS BATCH WARMUP STEPS RANK LAYERS
 * </pre>
 */
public final class MethodBenchmark {

  private MethodBenchmark() {}

  /**
   * Runs one method.
   *
   * @param args see the class comment
   */
  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[1]);
    String mode = args[2];
    int batch = Integer.parseInt(args[4]);
    int warmup = Integer.parseInt(args[5]);
    int steps = Integer.parseInt(args[6]);
    int rank = Integer.parseInt(args[7]);
    int layers = Integer.parseInt(args[8]);
    List<TrainingExample> data = Benchmarks.readData(work);
    TrainerConfig.Method method =
        switch (mode) {
          case "lora" ->
              new TrainerConfig.Method(
                  "lora",
                  rank,
                  2.0 * rank,
                  0.0,
                  List.of("all-linear"),
                  null,
                  null,
                  null,
                  null,
                  null);
          case "partial" ->
              new TrainerConfig.Method(
                  "partial", null, null, null, null, null, null, null, layers, null);
          case "full" ->
              new TrainerConfig.Method(
                  "full", null, null, null, null, null, null, null, null, null);
          default ->
              throw new IllegalArgumentException("mode must be lora, partial or full: " + mode);
        };
    Path modelDir = work.resolve("model");
    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, manager)) {
      TrainingMethod m =
          TrainingMethods.create(method, model, manager, 0, modelDir, Long.MAX_VALUE);
      MethodFootprint f = m.footprint();
      System.gc();
      double setupRss = Benchmarks.statusMiB("VmRSS:");
      boolean reset = Benchmarks.resetPeak();
      TrainingResult result =
          Benchmarks.train(
              model, m.parameters(), m::setTraining, data, batch, warmup + steps, manager);
      Benchmarks.Measured measured = Benchmarks.afterWarmup(result, warmup);
      System.out.printf(
          "{\"mode\": \"%s\", \"trainableParameters\": %d, \"totalParameters\": %d,"
              + " \"optimizerStateBytes\": %d, \"baseWeightBytes\": %d, \"tokensPerSecond\": %.3f,"
              + " \"seconds\": %.3f, \"tokens\": %d, \"finalLoss\": %.6f, \"setupRssMiB\": %.1f,"
              + " \"trainPeakRssMiB\": %.1f, \"peakReset\": %b}%n",
          mode,
          f.trainableParameters(),
          f.totalParameters(),
          f.optimizerStateBytes(),
          f.baseWeightBytes(),
          measured.tokensPerSecond(),
          measured.seconds(),
          measured.tokens(),
          measured.last().trainLoss(),
          setupRss,
          Benchmarks.statusMiB("VmHWM:"),
          reset);
    }
  }
}
