package io.kubetune.trainer.full;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.model.HfTokenizer;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.ModelConfigException;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.TrainingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pretrain}: trains a small Llama from random initialisation on a text corpus (the
 * quick-start base model). Runs stand-alone ({@link #main}) or as a subcommand of the trainer.
 */
@Command(
    name = "pretrain",
    description = "Pre-train a small Llama model from random weights on a text corpus.",
    mixinStandardHelpOptions = true)
public final class PretrainCommand implements Callable<Integer> {

  @Option(names = "--corpus", required = true, description = "Training text, one document a line.")
  Path corpus;

  @Option(
      names = "--validation",
      required = true,
      description = "Held-out text, one document a line.")
  Path validation;

  @Option(
      names = "--tokenizer",
      required = true,
      description = "Folder with tokenizer.json and tokenizer_config.json.")
  Path tokenizer;

  @Option(names = "--out", required = true, description = "Model folder to write.")
  Path out;

  @Option(names = "--hidden-size", defaultValue = "192")
  int hiddenSize;

  @Option(names = "--intermediate-size", defaultValue = "512")
  int intermediateSize;

  @Option(names = "--layers", defaultValue = "4")
  int layers;

  @Option(names = "--heads", defaultValue = "6")
  int heads;

  @Option(names = "--kv-heads", defaultValue = "2")
  int kvHeads;

  @Option(names = "--seq-length", defaultValue = "128")
  int seqLength;

  @Option(names = "--batch-size", defaultValue = "16")
  int batchSize;

  @Option(names = "--steps", defaultValue = "1000")
  long steps;

  @Option(names = "--learning-rate", defaultValue = "3e-3")
  double learningRate;

  @Option(names = "--warmup-ratio", defaultValue = "0.03")
  double warmupRatio;

  @Option(names = "--seed", defaultValue = "42")
  long seed;

  @Option(names = "--eval-every", defaultValue = "100")
  int evalEvery;

  @Option(names = "--validation-windows", defaultValue = "64")
  int validationWindows;

  @Option(
      names = "--export-every",
      defaultValue = "100",
      description = "Write the model every N steps too, so a stopped run leaves a model.")
  int exportEvery;

  @Option(names = "--dtype", defaultValue = "F16", description = "F16 or F32.")
  DType dtype;

  /** Runs the command stand-alone. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new PretrainCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    for (Path p : List.of(corpus, validation)) {
      if (!Files.isRegularFile(p)) {
        System.err.println(p + ": not found; build the corpus first (examples/quickstart)");
        return 2;
      }
    }
    int vocab;
    Integer bos;
    List<Integer> eos;
    Integer pad;
    try (HfTokenizer tok = HfTokenizer.load(tokenizer)) {
      vocab = vocabSize(tokenizer.resolve(HfTokenizer.TOKENIZER_FILE));
      bos = tok.tokenId("<s>").orElse(null);
      eos =
          List.of(
              tok.tokenId("</s>").orElseThrow(() -> missing("</s>")),
              tok.eosTokenId().orElseThrow(() -> missing("eos_token")));
      pad = tok.padTokenId().orElse(null);
    }
    if (hiddenSize % heads != 0) {
      System.err.println("--hidden-size must be a multiple of --heads");
      return 2;
    }
    LlamaConfig architecture =
        new LlamaConfig(
            "llama",
            vocab,
            hiddenSize,
            intermediateSize,
            layers,
            heads,
            kvHeads,
            hiddenSize / heads,
            1e-5,
            10000.0,
            LlamaConfig.RopeScaling.NONE,
            true,
            Math.max(256, seqLength),
            bos,
            eos.get(0).equals(eos.get(1)) ? List.of(eos.get(0)) : eos,
            pad,
            false,
            false,
            false,
            null);
    TrainingOptions options =
        TrainingOptions.builder()
            .optMaxSteps(steps)
            .optBatchSize(batchSize)
            .optLearningRate(learningRate)
            .optLrScheduler(LrSchedule.Type.COSINE)
            .optWarmupRatio(warmupRatio)
            .optWeightDecay(0.0)
            .optMaxGradNorm(1.0)
            .optMaxSeqLength(seqLength)
            .optSeed(seed)
            .optEvalEverySteps(evalEvery)
            .optPadTokenId(pad == null ? 0 : pad)
            .optRestoreBest(false)
            .build();
    Pretraining.Outcome outcome =
        Pretraining.run(
            new Pretraining.Settings(
                corpus,
                validation,
                tokenizer,
                out,
                architecture,
                seqLength,
                validationWindows,
                options,
                exportEvery,
                dtype),
            System.out);
    System.out.printf(
        "pretrained %d parameters for %d steps (%.0f s): validation perplexity %.2f -> %.2f%n",
        outcome.parameters(),
        outcome.result().steps(),
        outcome.result().trainSeconds(),
        outcome.initialPerplexity(),
        outcome.finalPerplexity());
    return 0;
  }

  /** One more than the largest id of the BPE vocabulary and the added tokens. */
  static int vocabSize(Path tokenizerJson) throws java.io.IOException {
    JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
    int max = -1;
    for (JsonNode id : root.path("model").path("vocab")) {
      max = Math.max(max, id.asInt());
    }
    for (JsonNode t : root.path("added_tokens")) {
      max = Math.max(max, t.path("id").asInt());
    }
    return max + 1;
  }

  private static ModelConfigException missing(String token) {
    return new ModelConfigException("the tokenizer defines no " + token + " token");
  }
}
