package io.kubetune.trainer.full;

import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.model.HfTokenizer;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.model.ModelConfigException;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.EvalRecord;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.StepRecord;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingListener;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pre-training from random initialisation: full fine-tuning of a freshly initialised Llama on a
 * plain-text corpus. This is how the quick-start base model is made.
 *
 * <p>Documents (one per line) are tokenized with BOS as the tokenizer adds it, each followed by
 * {@code </s>}, concatenated and cut into {@code seqLength} windows whose every token is a label
 * (standard causal-LM packing). The result is written with {@link HfModelExporter}, also at every
 * checkpoint so that a run stopped early still leaves a usable model.
 */
public final class Pretraining {

  private Pretraining() {}

  /**
   * Settings of a run.
   *
   * @param corpus training text, one document per line
   * @param validation held-out text, one document per line
   * @param tokenizerDir folder with tokenizer.json and tokenizer_config.json
   * @param out model folder to write
   * @param architecture the model shape (vocab size must equal the tokenizer's)
   * @param seqLength window length in tokens
   * @param validationWindows number of held-out windows evaluated
   * @param options optimisation settings (batch size, steps, learning rate, schedule, seed)
   * @param exportEverySteps export the model every N steps (0: only at the end)
   * @param dtype stored dtype of the exported weights
   */
  public record Settings(
      Path corpus,
      Path validation,
      Path tokenizerDir,
      Path out,
      LlamaConfig architecture,
      int seqLength,
      int validationWindows,
      TrainingOptions options,
      int exportEverySteps,
      DType dtype) {}

  /** Outcome of a run. */
  public record Outcome(
      long parameters, long trainTokens, TrainingResult result, double initialPerplexity) {

    /** Validation perplexity after training. */
    public double finalPerplexity() {
      return Math.exp(result.finalEval().validLoss());
    }
  }

  /** Runs pre-training and writes the model folder. */
  public static Outcome run(Settings s, PrintStream log) throws IOException, ModelConfigException {
    Path init = Files.createTempDirectory("pretrain-init");
    try (HfTokenizer tokenizer = HfTokenizer.load(s.tokenizerDir());
        NDManager manager = NDManager.newBaseManager()) {
      int eos =
          tokenizer
              .tokenId("</s>")
              .orElseThrow(() -> new ModelConfigException("the tokenizer has no </s> token"));
      List<TrainingExample> train = windows(s.corpus(), tokenizer, eos, s.seqLength(), -1);
      List<TrainingExample> valid =
          windows(s.validation(), tokenizer, eos, s.seqLength(), s.validationWindows());
      long tokens = (long) train.size() * s.seqLength();
      log.printf(
          "corpus: %d windows of %d tokens (%d tokens), %d validation windows%n",
          train.size(), s.seqLength(), tokens, valid.size());
      RandomLlama.write(s.architecture(), 0.02, s.options().seed(), init);
      try (LlamaModel model = LlamaModel.load(init, manager)) {
        TrainableWeights weights = TrainableWeights.full(model);
        log.printf(
            "model: %d parameters, AdamW state %d bytes%n",
            weights.parameterCount(), TrainableWeights.adamWStateBytes(weights.arrays()));
        HfModelExporter exporter =
            HfModelExporter.builder().setSource(s.tokenizerDir()).optDtype(s.dtype()).build();
        double[] initialLoss = {Double.NaN};
        TrainingListener listener =
            new TrainingListener() {
              @Override
              public void onStep(StepRecord step) {
                if (step.step() % 10 == 0 || step.step() == 1) {
                  log.printf(
                      "step %d/%d loss %.4f lr %.2e grad-norm %.3f %.0f tok/s %.0fs%n",
                      step.step(),
                      step.totalSteps(),
                      step.trainLoss(),
                      step.learningRate(),
                      step.gradNorm(),
                      step.tokensPerSecond(),
                      step.elapsedSeconds());
                }
              }

              @Override
              public void onEval(EvalRecord eval, boolean baseline) {
                if (baseline) {
                  initialLoss[0] = eval.validLoss();
                }
                log.printf(
                    "eval step %d: validation loss %.4f perplexity %.2f token accuracy %.4f%n",
                    eval.step(),
                    eval.validLoss(),
                    Math.exp(eval.validLoss()),
                    eval.validTokenAccuracy());
              }
            };
        FineTuner.TrainingJob job =
            FineTuner.TrainingJob.builder()
                .setModel(CausalLm.of(model))
                .setParameters(weights.arrays())
                .setTrainData(train)
                .optValidationData(valid)
                .setOptions(s.options())
                .optListener(listener)
                .setManager(manager)
                .optCheckpointer(
                    s.exportEverySteps(),
                    (step, optimizer) -> {
                      exporter.export(model, s.out());
                      log.printf("exported step %d to %s%n", step, s.out());
                      return s.out();
                    })
                .build();
        TrainingResult result = FineTuner.run(job);
        exporter.export(model, s.out());
        log.printf("exported final model to %s%n", s.out());
        return new Outcome(weights.parameterCount(), tokens, result, Math.exp(initialLoss[0]));
      }
    } finally {
      deleteTree(init);
    }
  }

  /**
   * Packs documents into windows of {@code length} tokens; {@code limit} caps the number of windows
   * (-1: all).
   */
  static List<TrainingExample> windows(
      Path file, HfTokenizer tokenizer, int eos, int length, int limit) throws IOException {
    List<TrainingExample> out = new ArrayList<>();
    int[] buffer = new int[length];
    int filled = 0;
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = reader.readLine()) != null && (limit < 0 || out.size() < limit)) {
        if (line.isBlank()) {
          continue;
        }
        int[] ids = tokenizer.encode(line.strip());
        for (int i = 0; i <= ids.length && (limit < 0 || out.size() < limit); i++) {
          buffer[filled++] = i < ids.length ? ids[i] : eos;
          if (filled == length) {
            out.add(new TrainingExample(buffer.clone(), buffer.clone()));
            filled = 0;
          }
        }
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(
          file + ": holds fewer than " + length + " tokens; add text or lower --seq-length");
    }
    return out;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
