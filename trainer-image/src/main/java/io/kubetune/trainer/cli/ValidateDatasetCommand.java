package io.kubetune.trainer.cli;

import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.source.HubClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code validate-dataset --config FILE}: checks and measures the dataset; the report is printed
 * and becomes the termination message, the exit code says whether training may start.
 */
@Command(
    name = "validate-dataset",
    description = {
      "Validate the dataset of a config (formats, template, lengths) and report statistics.",
      "Exits 0 when it may be trained on, 3 when not."
    },
    mixinStandardHelpOptions = true)
final class ValidateDatasetCommand extends CommandSupport implements Callable<Integer> {
  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "Trainer config (JSON or YAML), or the folder of the mounted config ConfigMap.")
  Path config;

  ValidateDatasetCommand(TrainerServices services) {
    super(services);
  }

  @Override
  public Integer call() {
    DatasetReport report;
    try {
      TrainerConfig cfg = loadConfig(config, ConfigValidator.Purpose.VALIDATE_DATASET);
      // Only the tokenizer is needed to count tokens: do not download weights here.
      Path modelDir = services.models().resolve(cfg.baseModel(), HubClient.Scope.TOKENIZER_ONLY);
      report = services.datasetValidation().validate(cfg, modelDir);
      if (report == null) {
        throw new IllegalStateException("dataset validation returned no report");
      }
    } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
      return fail(e, true);
    }
    services.out().println(Contract.write(report));
    services.out().flush();
    services.termination().write(report);
    if (!report.valid()) {
      services
          .err()
          .println(
              "error: dataset invalid: "
                  + report.errorCount()
                  + (report.errorCount() == 1 ? " problem" : " problems"));
      for (DatasetError e : report.errors()) {
        services
            .err()
            .println(
                "  line "
                    + e.line()
                    + ": "
                    + e.code()
                    + ": "
                    + e.message()
                    + "; "
                    + e.code().hint());
      }
      return FailureReason.DATASET_INVALID.exitCode();
    }
    return 0;
  }
}
