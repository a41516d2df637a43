package io.kubetune.trainer.data;

import io.kubetune.contract.DatasetReport;
import java.util.List;

/**
 * The trainer's data: tokenized (and, with packing, packed) sequences plus the validation report.
 *
 * <p>When {@code report().valid()} is false both lists are empty: the trainer must not train and
 * should exit with {@code DATASET_INVALID}, publishing the report.
 *
 * @param train training sequences, in file order (the trainer shuffles per epoch)
 * @param validation held-out sequences, in file order; empty when there is no validation data
 * @param report what validation found; counts are examples, not packed sequences
 */
public record PreparedDataset(
    List<TokenizedExample> train, List<TokenizedExample> validation, DatasetReport report) {
  public PreparedDataset {
    train = List.copyOf(train);
    validation = List.copyOf(validation);
  }
}
