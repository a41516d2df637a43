package io.kubetune.contract;

/**
 * Evaluation on the validation set.
 *
 * @param validLoss mean cross-entropy over completion tokens
 * @param validTokenAccuracy fraction of completion tokens predicted exactly (greedy)
 */
public record EvalMetrics(Double validLoss, Double validTokenAccuracy) {}
