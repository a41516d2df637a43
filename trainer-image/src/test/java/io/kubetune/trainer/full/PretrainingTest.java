package io.kubetune.trainer.full;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsCheckpoint;
import io.kubetune.trainer.testing.TinyModels;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.TrainingOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pre-training from random weights learns a corpus and leaves a loadable F16 HF model. */
class PretrainingTest {

  @TempDir Path dir;

  @Test
  void pretrainingFromRandomWeightsLowersHeldOutPerplexityAndWritesAModel() throws Exception {
    Path tokenizer = dir.resolve("tok");
    TinyModels.writeTokenizer(tokenizer);
    Path corpus = dir.resolve("train.txt");
    Path heldOut = dir.resolve("valid.txt");
    Files.write(corpus, sentences(400, 1));
    Files.write(heldOut, sentences(40, 2));
    LlamaConfig arch =
        new LlamaConfig(
            "llama",
            TinyModels.vocabSize(),
            32,
            64,
            2,
            4,
            2,
            8,
            1e-5,
            10000.0,
            LlamaConfig.RopeScaling.NONE,
            true,
            64,
            TinyModels.BOS,
            List.of(TinyModels.EOS),
            TinyModels.PAD,
            false,
            false,
            false,
            null);
    Path out = dir.resolve("model");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Pretraining.Outcome outcome =
        Pretraining.run(
            new Pretraining.Settings(
                corpus,
                heldOut,
                tokenizer,
                out,
                arch,
                16,
                8,
                TrainingOptions.builder()
                    .optMaxSteps(40)
                    .optBatchSize(8)
                    .optLearningRate(1e-2)
                    .optLrScheduler(LrSchedule.Type.COSINE)
                    .optEvalEverySteps(0)
                    .optRestoreBest(false)
                    .build(),
                20,
                DType.F16),
            new PrintStream(log, true, StandardCharsets.UTF_8));
    String printed = log.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("exported step 20"), printed);
    assertTrue(
        outcome.finalPerplexity() < 0.25 * outcome.initialPerplexity(),
        outcome.initialPerplexity() + " -> " + outcome.finalPerplexity());
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(out)) {
      assertEquals(DType.F16, ckpt.info("model.embed_tokens.weight").dtype());
    }
    try (LlamaModel model = LlamaModel.load(out)) {
      assertEquals(2, model.config().numHiddenLayers());
    }
    assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
  }

  @Test
  void aCorpusShorterThanOneWindowIsAClearError() throws Exception {
    Path tokenizer = dir.resolve("tok");
    TinyModels.writeTokenizer(tokenizer);
    Path corpus = dir.resolve("tiny.txt");
    Files.writeString(corpus, "hello world\n");
    try (var tok = io.kubetune.trainer.model.HfTokenizer.load(tokenizer)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Pretraining.windows(corpus, tok, TinyModels.EOS, 64, -1));
      assertTrue(e.getMessage().contains("--seq-length"), e.getMessage());
    }
  }

  /** Sentences of a tiny grammar over the fixture's words: learnable, never memorised whole. */
  private static List<String> sentences(int count, long seed) {
    Random r = new Random(seed);
    String[] subjects = {"the cat", "the dog", "you"};
    String[] colours = {"red", "blue", "green"};
    String[] things = {"sky", "sea", "world"};
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          subjects[r.nextInt(3)]
              + " is "
              + colours[r.nextInt(3)]
              + " and the "
              + things[r.nextInt(3)]
              + " is not "
              + colours[r.nextInt(3)]);
    }
    return out;
  }
}
