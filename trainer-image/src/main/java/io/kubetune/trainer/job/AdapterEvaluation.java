package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.cli.ConfigException;
import io.kubetune.trainer.cli.Evaluation;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.data.PreparedDataset;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code eval}: validation loss and token accuracy of the base model or base + adapter, on the
 * validation data {@code train} would use (same split, truncation, packing and batch size), so the
 * numbers of an exported adapter equal the training's final evaluation.
 */
public final class AdapterEvaluation implements Evaluation {
  @Override
  public EvalMetrics evaluate(TrainerConfig config, Path modelDir, Path adapterDir) {
    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel model = Models.load(modelDir, manager)) {
      int maxSeqLength = AutoHyperparameters.maxSeqLength(config.hyperparameters(), model.config());
      long seed = AutoHyperparameters.seed(config.hyperparameters());
      PreparedDataset data = FineTuningRunner.prepare(config, modelDir, maxSeqLength, seed);
      if (!data.report().valid()) {
        throw new TrainerFailureException(
            FailureReason.DATASET_INVALID, FineTuningRunner.invalid(data.report()));
      }
      List<TrainingExample> valid = Evaluator.examples(data.validation());
      if (valid.isEmpty()) {
        throw ConfigException.of(
            "dataset.validation",
            "there is no validation data to evaluate on",
            "set dataset.validation to a JSONL file or dataset.validationSplit to e.g. 0.1");
      }
      Integer pad = model.config().padTokenId();
      TrainingOptions opts =
          AutoHyperparameters.resolve(
              config.hyperparameters(), data.train().size(), maxSeqLength, pad == null ? 0 : pad);
      if (adapterDir != null) {
        Models.loadAdapter(adapterDir, model, manager);
      }
      return Evaluator.evaluate(CausalLm.of(model), valid, opts, manager);
    }
  }
}
