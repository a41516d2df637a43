package io.kubetune.trainer.full;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.model.HfTokenizer;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.PythonReference;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick-start base model shipped in {@code examples/quickstart/model} is genuinely pre-trained:
 * on held-out corpus text (synsets never used in pre-training) its perplexity is far below that of
 * the same architecture with random weights.
 */
class QuickstartModelTest {

  private static final int WINDOW = 64;

  @TempDir Path dir;

  @Test
  void shippedModelHasAFarLowerHeldOutPerplexityThanRandomWeights() throws Exception {
    Path example = PythonReference.moduleDir().getParent().resolve("examples/quickstart");
    Path shipped = example.resolve("model");
    Path heldOut = example.resolve("data/corpus-heldout.txt");
    assertTrue(Files.isRegularFile(shipped.resolve("model.safetensors")), shipped.toString());
    Path random = dir.resolve("random");
    double shippedPerplexity;
    double randomPerplexity;
    try (NDManager m = NDManager.newBaseManager();
        HfTokenizer tokenizer = HfTokenizer.load(shipped)) {
      int eos = tokenizer.tokenId("</s>").orElseThrow();
      List<TrainingExample> windows = Pretraining.windows(heldOut, tokenizer, eos, WINDOW, 48);
      assertEquals(48, windows.size());
      try (LlamaModel model = LlamaModel.load(shipped, m)) {
        RandomLlama.write(model.config(), 0.02, 1, random);
        shippedPerplexity = perplexity(model, windows, m);
      }
      Files.copy(shipped.resolve("tokenizer.json"), random.resolve("tokenizer.json"));
      try (LlamaModel model = LlamaModel.load(random, m)) {
        randomPerplexity = perplexity(model, windows, m);
      }
    }
    System.out.printf(
        "quick-start model held-out perplexity %.1f, random weights %.1f%n",
        shippedPerplexity, randomPerplexity);
    assertTrue(
        shippedPerplexity < 0.1 * randomPerplexity,
        "perplexity " + shippedPerplexity + " vs random " + randomPerplexity);
  }

  /** Perplexity through the trainer's own evaluation (the baseline of a zero-step run). */
  private static double perplexity(LlamaModel model, List<TrainingExample> windows, NDManager m) {
    TrainingResult r =
        FineTuner.run(
            FineTuner.TrainingJob.builder()
                .setModel(CausalLm.of(model))
                .setParameters(TrainableWeights.partial(model, 0, List.of("model.norm")).arrays())
                .setTrainData(windows.subList(0, 1))
                .optValidationData(windows)
                .setOptions(
                    TrainingOptions.builder()
                        .optMaxSteps(1)
                        .optBatchSize(16)
                        .optLearningRate(1e-30)
                        .optEvalEverySteps(0)
                        .build())
                .setManager(m)
                .build());
    return Math.exp(r.baseline().validLoss());
  }
}
