package io.kubetune.trainer.cli;

import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.report.ProgressReporter;
import io.kubetune.trainer.source.HubClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train --config FILE}: fine-tunes and exports an adapter. */
@Command(
    name = "train",
    description = "Fine-tune the base model on the dataset and export a PEFT adapter.",
    mixinStandardHelpOptions = true)
final class TrainCommand extends CommandSupport implements Callable<Integer> {
  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "Trainer config (JSON or YAML), or the folder of the mounted config ConfigMap.")
  Path config;

  TrainCommand(TrainerServices services) {
    super(services);
  }

  @Override
  public Integer call() {
    TrainerConfig cfg;
    try {
      cfg = loadConfig(config, ConfigValidator.Purpose.TRAIN);
    } catch (RuntimeException e) {
      return fail(e, true);
    }
    try (ProgressReporter progress =
        ProgressReporter.forConfig(cfg, services.kube(), services.out())) {
      progress.report(stage(null, TrainerStage.STARTING));
      TrainerResult result;
      int code;
      try {
        progress.report(stage(progress.latest(), TrainerStage.LOADING_MODEL));
        Path modelDir = services.models().resolve(cfg.baseModel(), HubClient.Scope.ALL);
        result =
            services.training().train(new TrainingJob(cfg, modelDir, progress, services.stop()));
        if (result == null) {
          throw new IllegalStateException("the training runner returned no result");
        }
        code = exitCode(result);
        if (!result.succeeded()) {
          String message = result.message() == null ? "training did not finish" : result.message();
          // A stop on request is not an error: the next pod resumes from the checkpoint.
          boolean stopped = result.failure() == null && services.stop().isStopRequested();
          services.err().println((stopped ? "stopped: " : "error: ") + message);
        }
        services.termination().write(result);
      } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
        // LinkageError covers natives that fail to load (UnsatisfiedLinkError).
        code = fail(e, true);
        result =
            code == STOPPED_EXIT_CODE
                ? Failures.result(null, "stopped")
                : Failures.result(Failures.classify(e), Failures.message(e));
      }
      if (result.succeeded()) {
        progress.report(stage(progress.latest(), TrainerStage.SUCCEEDED));
      } else if (result.failure() != null) {
        progress.report(stage(progress.latest(), TrainerStage.FAILED));
      }
      // A run stopped by SIGTERM is neither: it resumes from its checkpoint in the next pod.
      return code;
    }
  }

  /** The latest document moved to another stage, keeping everything already known. */
  static TrainerProgress stage(TrainerProgress p, TrainerStage stage) {
    if (p == null) {
      return new TrainerProgress(
          Contract.SCHEMA_VERSION,
          stage,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null);
    }
    return new TrainerProgress(
        p.schemaVersion(),
        stage,
        p.step(),
        p.totalSteps(),
        p.epoch(),
        p.trainedTokens(),
        p.tokensPerSecond(),
        p.trainLoss(),
        p.learningRate(),
        p.latestEval(),
        p.baseline(),
        p.resolvedHyperparameters(),
        p.dataset(),
        p.checkpoints(),
        null,
        p.lossScale(),
        p.skippedSteps());
  }
}
