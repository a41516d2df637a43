package io.kubetune.trainer.cli;

import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.TrainerConfig;
import java.nio.file.Path;

/**
 * Validates and measures the dataset of a config (the {@code validate-dataset} subcommand, run by
 * the operator's validation pod before any GPU is requested); implemented with the data code.
 */
@FunctionalInterface
public interface DatasetValidation {
  /**
   * Reads, templates and tokenizes the dataset and reports what it found.
   *
   * @param config the validated trainer config
   * @param modelDir folder with at least {@code config.json}, {@code tokenizer.json} and, when the
   *     repo has them, {@code tokenizer_config.json} (chat template) — weights are not downloaded
   * @return the report; {@code valid=false} makes the command exit with 3
   */
  DatasetReport validate(TrainerConfig config, Path modelDir) throws Exception;
}
