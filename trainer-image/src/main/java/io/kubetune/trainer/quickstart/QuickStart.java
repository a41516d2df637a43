package io.kubetune.trainer.quickstart;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.data.DatasetPipeline;
import io.kubetune.trainer.data.PreparedDataset;
import io.kubetune.trainer.data.TokenizedExample;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.GenerationConfig;
import io.kubetune.trainer.model.Generator;
import io.kubetune.trainer.model.HfTokenizer;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.EvalRecord;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.StepRecord;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingListener;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The quick start: LoRA fine-tuning of the shipped pre-trained model on a chat dataset, printing
 * validation loss and token accuracy before and after and a few generations, then writing the PEFT
 * adapter. It calls the trainer library directly (data pipeline, LoRA, fine-tuning loop, adapter
 * export), the same code the {@code train} command runs.
 */
@Command(
    name = "quickstart",
    description = "LoRA fine-tune the quick-start model and show before/after metrics.",
    mixinStandardHelpOptions = true)
public final class QuickStart implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "Base model folder.")
  Path model;

  @Option(names = "--train", required = true, description = "Chat dataset (JSONL).")
  Path train;

  @Option(names = "--validation", required = true, description = "Held-out chat dataset (JSONL).")
  Path validation;

  @Option(names = "--out", required = true, description = "Adapter folder to write.")
  Path out;

  @Option(names = "--epochs", defaultValue = "2")
  double epochs;

  @Option(names = "--max-steps", defaultValue = "0", description = "Overrides --epochs when > 0.")
  long maxSteps;

  @Option(names = "--batch-size", defaultValue = "16")
  int batchSize;

  @Option(names = "--learning-rate", defaultValue = "3e-3")
  double learningRate;

  @Option(names = "--rank", defaultValue = "16")
  int rank;

  @Option(names = "--samples", defaultValue = "4", description = "Generations shown.")
  int samples;

  /** Runs the quick start. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new QuickStart()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    PrintStream log = System.out;
    for (Path p : List.of(train, validation)) {
      if (!Files.isRegularFile(p)) {
        System.err.println(p + ": not found; pass --train and --validation JSONL files");
        return 2;
      }
    }
    TrainerConfig.Dataset dataset =
        new TrainerConfig.Dataset(
            train.toString(), validation.toString(), null, "chat", null, null, null, "Fail");
    PreparedDataset data = DatasetPipeline.prepare(dataset, model, 128, false, 42);
    if (!data.report().valid()) {
      System.err.println("dataset invalid: " + data.report());
      return 2;
    }
    List<TrainingExample> trainData = convert(data.train());
    List<TrainingExample> validData = convert(data.validation());
    log.printf(
        "data: %d training and %d validation conversations (validation words are not in the"
            + " training set)%n",
        trainData.size(), validData.size());

    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel base = LlamaModel.load(model, manager);
        HfTokenizer tokenizer = HfTokenizer.load(model)) {
      List<TrainingExample> shown = validData.subList(0, Math.min(samples, validData.size()));
      List<String> before = generate(base, tokenizer, shown);

      LoraConfig lora =
          LoraConfig.builder()
              .setRank(rank)
              .optAlpha(2.0 * rank)
              .optDropout(0.05)
              .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
              .build();
      LoraAdapter adapter = LoraAdapter.apply(lora, base, manager, 42);
      log.printf(
          "LoRA: rank %d on all linear layers, %d trainable parameters%n",
          rank, adapter.parameterCount());
      TrainingOptions options =
          TrainingOptions.builder()
              .optEpochs(epochs)
              .optMaxSteps(maxSteps)
              .optBatchSize(batchSize)
              .optLearningRate(learningRate)
              .optLrScheduler(LrSchedule.Type.COSINE)
              .optWarmupRatio(0.05)
              .optMaxSeqLength(128)
              .optPadTokenId(tokenizer.padTokenId().orElse(0))
              .optEvalEverySteps(-1)
              .build();
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(CausalLm.of(base))
                  .setParameters(adapter.parameters())
                  .optTrainingMode(adapter::setTraining)
                  .setTrainData(trainData)
                  .optValidationData(validData)
                  .setOptions(options)
                  .optListener(listener(log))
                  .setManager(manager)
                  .build());
      adapter.setTraining(false);
      List<String> after = generate(base, tokenizer, shown);
      PeftAdapter.export(adapter, out, model.toString());

      EvalRecord b = result.baseline();
      EvalRecord f = result.finalEval();
      log.println();
      log.println("=== validation (held-out words) ===");
      log.printf("            loss    token accuracy%n");
      log.printf("baseline  %6.3f    %6.1f%%%n", b.validLoss(), 100 * b.validTokenAccuracy());
      log.printf("final     %6.3f    %6.1f%%%n", f.validLoss(), 100 * f.validTokenAccuracy());
      log.printf(
          "%d steps in %.0f s (%.0f tokens/s)%n",
          result.steps(), result.trainSeconds(), result.tokensPerSecond());
      log.println();
      log.println("=== generations (greedy) ===");
      for (int i = 0; i < shown.size(); i++) {
        log.println(
            "prompt:    "
                + tokenizer.decode(prompt(shown.get(i)), true).strip().replace('\n', ' '));
        log.println("reference: " + tokenizer.decode(answer(shown.get(i)), true).strip());
        log.println("before:    " + before.get(i));
        log.println("after:     " + after.get(i));
        log.println();
      }
      log.println("adapter written to " + out);
      return 0;
    }
  }

  private static TrainingListener listener(PrintStream log) {
    return new TrainingListener() {
      @Override
      public void onStep(StepRecord s) {
        if (s.step() % 10 == 0 || s.step() == s.totalSteps()) {
          log.printf(
              "step %d/%d train loss %.3f lr %.2e%n",
              s.step(), s.totalSteps(), s.trainLoss(), s.learningRate());
        }
      }

      @Override
      public void onEval(EvalRecord e, boolean baseline) {
        log.printf(
            "%s validation loss %.3f token accuracy %.1f%%%n",
            baseline ? "baseline" : "step " + e.step(),
            e.validLoss(),
            100 * e.validTokenAccuracy());
      }
    };
  }

  private static List<TrainingExample> convert(List<TokenizedExample> in) {
    List<TrainingExample> out = new ArrayList<>(in.size());
    for (TokenizedExample e : in) {
      out.add(new TrainingExample(e.inputIds(), e.labels()));
    }
    return out;
  }

  /** The ids the chat template renders before the answer (up to the assistant header). */
  private static int[] prompt(TrainingExample e) {
    int[] labels = e.labels();
    int first = 0;
    while (first < labels.length && labels[first] == TrainingExample.IGNORE_INDEX) {
      first++;
    }
    return Arrays.copyOf(e.inputIds(), first);
  }

  private static int[] answer(TrainingExample e) {
    int[] p = prompt(e);
    return Arrays.copyOfRange(e.inputIds(), p.length, e.inputIds().length);
  }

  private static List<String> generate(
      LlamaModel model, HfTokenizer tokenizer, List<TrainingExample> examples) {
    List<String> out = new ArrayList<>();
    for (TrainingExample e : examples) {
      int[] ids = Generator.generate(model, prompt(e), GenerationConfig.greedy(32));
      out.add(tokenizer.decode(ids, true).strip().replace('\n', ' '));
    }
    return out;
  }
}
