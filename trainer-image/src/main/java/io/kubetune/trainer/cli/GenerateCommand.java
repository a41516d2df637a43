package io.kubetune.trainer.cli;

import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.source.HubClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code generate --model DIR [--adapter DIR] --prompt TEXT}: a quick look at the model. */
@Command(
    name = "generate",
    description = "Generate text from a prompt with the base model, optionally with an adapter.",
    mixinStandardHelpOptions = true)
final class GenerateCommand extends CommandSupport implements Callable<Integer> {
  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Base model folder, or hf://org/name[@revision] (downloaded to --cache-dir).")
  String model;

  @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT adapter folder.")
  Path adapter;

  @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The prompt.")
  String prompt;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "128",
      paramLabel = "N",
      description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--temperature",
      defaultValue = "0",
      paramLabel = "T",
      description = "Sampling temperature; 0 decodes greedily (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-p",
      defaultValue = "1.0",
      paramLabel = "P",
      description = "Nucleus sampling threshold in (0, 1] (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(
      names = "--seed",
      defaultValue = "42",
      paramLabel = "S",
      description = "Sampling seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--chat",
      description =
          "Send the prompt as a user message through the model's chat template (ChatML when the"
              + " model has none) and stop at the end of the assistant turn.")
  boolean chat;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where hf:// models are cached (default: ~/.cache/kubetune/hub).")
  String cacheDir;

  @Option(
      names = "--token-env",
      paramLabel = "NAME",
      description = "Environment variable holding the hub token for private or gated models.")
  String tokenEnv;

  GenerateCommand(TrainerServices services) {
    super(services);
  }

  @Override
  public Integer call() {
    String text;
    try {
      checkOptions();
      Path adapterDir = checkAdapter(adapter);
      Path modelDir =
          services
              .models()
              .resolve(
                  new TrainerConfig.BaseModel(model, null, tokenEnv, cacheDir),
                  HubClient.Scope.ALL);
      text =
          services
              .generation()
              .generate(
                  new GenerationRequest(
                      modelDir, adapterDir, prompt, maxNewTokens, temperature, topP, seed, chat));
    } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
      return fail(e, false);
    }
    services.out().println(text);
    services.out().flush();
    return 0;
  }

  private void checkOptions() {
    if (prompt.isEmpty()) {
      throw ConfigException.of("--prompt", "is empty", "pass the text to continue");
    }
    if (maxNewTokens < 1 || maxNewTokens > 32_768) {
      throw ConfigException.of(
          "--max-new-tokens", "must be between 1 and 32768, got " + maxNewTokens, "use e.g. 128");
    }
    if (!(temperature >= 0 && Double.isFinite(temperature))) {
      throw ConfigException.of(
          "--temperature", "must be 0 or more, got " + temperature, "use 0 for greedy decoding");
    }
    if (!(topP > 0 && topP <= 1)) {
      throw ConfigException.of(
          "--top-p", "must be in (0, 1], got " + topP, "use 1 to disable nucleus sampling");
    }
  }
}
