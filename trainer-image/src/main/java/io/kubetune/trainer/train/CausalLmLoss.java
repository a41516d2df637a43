package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * Causal-LM cross-entropy with Hugging Face's shift: position {@code t} predicts {@code
 * labels[t+1]}, positions labelled {@link TrainingExample#IGNORE_INDEX} do not count.
 */
public final class CausalLmLoss {

  private CausalLmLoss() {}

  /**
   * Sums the negative log-likelihood and counts greedy hits over the label tokens.
   *
   * @param logits {@code [B, T, V]}
   * @param labels int64 {@code [B, T]}, unshifted
   * @return the summed loss (a scalar that carries gradients) and the number of correct greedy
   *     predictions (a scalar without gradients)
   */
  public static Sums sums(NDArray logits, NDArray labels) {
    NDArray shiftedLogits = logits.get(new NDIndex(":, :-1, :"));
    NDArray shiftedLabels = labels.get(new NDIndex(":, 1:"));
    NDArray mask = shiftedLabels.neq(TrainingExample.IGNORE_INDEX);
    // Ignored positions gather class 0 and are then masked out.
    NDArray safeLabels = shiftedLabels.mul(mask.toType(DataType.INT64, false));
    NDArray hits =
        shiftedLogits
            .stopGradient()
            .argMax(-1)
            .eq(shiftedLabels)
            .logicalAnd(mask)
            .toType(DataType.FLOAT32, false)
            .sum();
    NDArray logProbs = shiftedLogits.logSoftmax(-1);
    // A [B, T, V] temporary that backward does not need (log_softmax saves its output); the
    // log-probabilities are saved by gather and must stay open.
    shiftedLogits.close();
    NDArray picked = logProbs.gather(safeLabels.expandDims(-1), -1).squeeze(-1);
    NDArray maskF = mask.toType(DataType.FLOAT32, false);
    NDArray nll = picked.mul(maskF).sum().neg();
    return new Sums(nll, hits);
  }

  /**
   * The same sums as {@link #sums} over logits of the label positions only.
   *
   * @param logits {@code [N, V]}, row {@code k} predicting {@code targets[k]}
   * @param targets int64 {@code [N]}, no ignored entries
   */
  public static Sums selectedSums(NDArray logits, NDArray targets) {
    NDArray hits =
        logits.stopGradient().argMax(-1).eq(targets).toType(DataType.FLOAT32, false).sum();
    NDArray logProbs = logits.logSoftmax(-1);
    NDArray nll = logProbs.gather(targets.expandDims(-1), -1).sum().neg();
    return new Sums(nll, hits);
  }

  /**
   * Summed loss and greedy hits.
   *
   * @param nllSum sum of {@code -log p(label)} over label tokens
   * @param correct number of label tokens whose argmax prediction is right
   */
  public record Sums(NDArray nllSum, NDArray correct) {}
}
