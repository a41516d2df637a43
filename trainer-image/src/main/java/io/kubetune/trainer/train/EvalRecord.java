package io.kubetune.trainer.train;

import io.kubetune.contract.EvalMetrics;

/**
 * One evaluation on the validation set.
 *
 * @param step optimizer steps done when it ran (0 for the baseline)
 * @param validLoss mean cross-entropy over the validation label tokens
 * @param validTokenAccuracy fraction of validation label tokens the model predicts greedily
 * @param labelTokens validation label tokens
 */
public record EvalRecord(long step, double validLoss, double validTokenAccuracy, long labelTokens) {

  /** The contract form. */
  public EvalMetrics toMetrics() {
    return new EvalMetrics(validLoss, validTokenAccuracy);
  }
}
