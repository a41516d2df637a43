package io.kubetune.trainer.cli;

import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerResult;
import java.nio.file.Path;

/**
 * Placeholder implementations for subcommands whose model/data/training code is not connected in
 * this build; each fails with a message saying so (exit code 1), never pretending to work.
 */
final class NotWired implements TrainingRunner, DatasetValidation, Generation, Evaluation {
  static final NotWired INSTANCE = new NotWired();

  private NotWired() {}

  private static UnsupportedOperationException notWired(String command) {
    return new UnsupportedOperationException(
        command + " is not wired to the model/data/training code in this build");
  }

  @Override
  public TrainerResult train(TrainingJob job) {
    throw notWired("train");
  }

  @Override
  public DatasetReport validate(TrainerConfig config, Path modelDir) {
    throw notWired("validate-dataset");
  }

  @Override
  public String generate(GenerationRequest request) {
    throw notWired("generate");
  }

  @Override
  public EvalMetrics evaluate(TrainerConfig config, Path modelDir, Path adapterDir) {
    throw notWired("eval");
  }
}
