package io.kubetune.trainer.job;

import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.cli.DatasetValidation;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.data.DatasetValidator;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.ModelConfigException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code validate-dataset}: the checks, templating and tokenization of training, with only the
 * tokenizer files (and config.json, for the auto maxSeqLength) of the base model.
 */
public final class DatasetCheck implements DatasetValidation {
  @Override
  public DatasetReport validate(TrainerConfig config, Path modelDir) {
    LlamaConfig model;
    try {
      model = LlamaConfig.load(modelDir);
    } catch (ModelConfigException e) {
      throw new TrainerFailureException(
          FailureReason.MODEL_INVALID, "base model " + modelDir + ": " + e.getMessage(), e);
    }
    int maxSeqLength = AutoHyperparameters.maxSeqLength(config.hyperparameters(), model);
    try {
      return DatasetValidator.validate(config.dataset(), modelDir, maxSeqLength);
    } catch (IOException e) {
      throw new TrainerFailureException(
          FailureReason.MODEL_INVALID, "tokenizer of " + modelDir + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new TrainerFailureException(
          FailureReason.CONFIG_INVALID, "dataset: " + e.getMessage(), e);
    }
  }
}
