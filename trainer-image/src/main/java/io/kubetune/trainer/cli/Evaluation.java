package io.kubetune.trainer.cli;

import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.TrainerConfig;
import java.nio.file.Path;

/** Evaluates a base model, or base plus adapter, on the config's validation data. */
@FunctionalInterface
public interface Evaluation {
  /**
   * Computes validation loss and mean token accuracy.
   *
   * @param config the validated trainer config (dataset, maxSeqLength, batchSize)
   * @param modelDir base model folder
   * @param adapterDir PEFT adapter folder, or null to evaluate the base model
   */
  EvalMetrics evaluate(TrainerConfig config, Path modelDir, Path adapterDir) throws Exception;
}
