package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.trainer.data.TokenizedExample;
import io.kubetune.trainer.train.Batch;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.CausalLmLoss;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * Validation loss and mean token accuracy outside a training run ({@code eval}, and the baseline of
 * a resumed run). Batches are formed exactly as {@code FineTuner} forms them (consecutive slices of
 * {@code batchSize} in file order, same padding and truncation), so the numbers equal the
 * training's evaluation of the same weights.
 */
final class Evaluator {
  private Evaluator() {}

  /** Converts the data pipeline's examples to the training loop's. */
  static List<TrainingExample> examples(List<TokenizedExample> tokenized) {
    List<TrainingExample> out = new ArrayList<>(tokenized.size());
    for (TokenizedExample e : tokenized) {
      out.add(new TrainingExample(e.inputIds(), e.labels()));
    }
    return out;
  }

  /** Evaluates {@code model} on {@code valid} without gradients. */
  static EvalMetrics evaluate(
      CausalLm model, List<TrainingExample> valid, TrainingOptions opts, NDManager manager) {
    double nll = 0;
    double correct = 0;
    long labelTokens = 0;
    for (int i = 0; i < valid.size(); i += opts.batchSize()) {
      List<TrainingExample> micro = valid.subList(i, Math.min(valid.size(), i + opts.batchSize()));
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        Batch batch = Batch.collate(micro, manager, opts.padTokenId(), opts.maxSeqLength());
        CausalLmLoss.Sums sums =
            model.lossSums(batch.inputIds(), batch.attentionMask(), batch.labels());
        nll += sums.nllSum().getFloat();
        correct += sums.correct().getFloat();
        labelTokens += batch.labelTokens();
      }
    }
    long denominator = Math.max(1, labelTokens);
    return new EvalMetrics(nll / denominator, correct / denominator);
  }
}
