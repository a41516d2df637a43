package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.contract.TrainerConfig;
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
    List<TrainingExample> data = new ArrayList<>();
    for (JsonNode e : new ObjectMapper().readTree(work.resolve("data.json").toFile())) {
      data.add(new TrainingExample(ints(e.get("input_ids")), ints(e.get("labels"))));
    }
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
      double setupRss = status("VmRSS:");
      boolean reset = resetPeak();
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(CausalLm.of(model))
                  .setParameters(m.parameters())
                  .optTrainingMode(m::setTraining)
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
      StepRecord before = result.stepHistory().get(warmup - 1);
      StepRecord last = result.stepHistory().get(result.stepHistory().size() - 1);
      long tokens = last.trainedTokens() - before.trainedTokens();
      double seconds = last.elapsedSeconds() - before.elapsedSeconds();
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
          tokens / seconds,
          seconds,
          tokens,
          last.trainLoss(),
          setupRss,
          status("VmHWM:"),
          reset);
    }
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  /** Writing 5 to clear_refs resets VmHWM (Linux 4.0+); false where that is not allowed. */
  private static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** A memory figure of this process from /proc/self/status, in MiB. */
  private static double status(String key) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }
}
