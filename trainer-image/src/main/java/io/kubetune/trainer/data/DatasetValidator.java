package io.kubetune.trainer.data;

import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.TrainerConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Validates a dataset without keeping it: the checks, templating and tokenization of {@link
 * DatasetPipeline}, streamed line by line in bounded memory, for {@code validate-dataset}.
 */
public final class DatasetValidator {
  private DatasetValidator() {}

  /**
   * Validates a dataset.
   *
   * @param cfg the dataset settings
   * @param modelDir the base model folder whose tokenizer and chat template apply
   * @param maxSeqLength truncation length used in training, to count truncated examples; 0 for none
   * @return the report, with the same counts training would report
   * @throws IOException when the model's tokenizer cannot be loaded
   */
  public static DatasetReport validate(TrainerConfig.Dataset cfg, Path modelDir, int maxSeqLength)
      throws IOException {
    return DatasetPipeline.run(cfg, modelDir, Math.max(0, maxSeqLength), false, 0L).report();
  }
}
