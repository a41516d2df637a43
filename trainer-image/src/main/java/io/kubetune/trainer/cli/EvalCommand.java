package io.kubetune.trainer.cli;

import io.kubetune.contract.Contract;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerResult;
import io.kubetune.trainer.source.HubClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code eval --config FILE [--adapter DIR]}: validation loss and token accuracy. */
@Command(
    name = "eval",
    description = "Evaluate the base model, or base model plus adapter, on the validation data.",
    mixinStandardHelpOptions = true)
final class EvalCommand extends CommandSupport implements Callable<Integer> {
  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "Trainer config (JSON or YAML) naming the base model and dataset.")
  Path config;

  @Option(
      names = "--adapter",
      paramLabel = "DIR",
      description = "PEFT adapter folder; without it the base model is evaluated.")
  Path adapter;

  EvalCommand(TrainerServices services) {
    super(services);
  }

  @Override
  public Integer call() {
    EvalMetrics metrics;
    try {
      TrainerConfig cfg = loadConfig(config, ConfigValidator.Purpose.EVAL);
      Path adapterDir = checkAdapter(adapter);
      Path modelDir = services.models().resolve(cfg.baseModel(), HubClient.Scope.ALL);
      metrics = services.evaluation().evaluate(cfg, modelDir, adapterDir);
      if (metrics == null) {
        throw new IllegalStateException("evaluation returned no metrics");
      }
    } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
      return fail(e, true);
    }
    services.out().println(Contract.write(metrics));
    services.out().flush();
    services
        .termination()
        .write(
            new TrainerResult(
                Contract.SCHEMA_VERSION, true, null, "evaluated", null, null, metrics, null, null));
    return 0;
  }
}
