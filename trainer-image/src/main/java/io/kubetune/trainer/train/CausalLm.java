package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;

/** A causal language model as the training loop sees it: token ids in, logits out. */
@FunctionalInterface
public interface CausalLm {

  /**
   * Runs the model.
   *
   * @param inputIds int64 {@code [B, T]}
   * @param attentionMask int64 {@code [B, T]}, 1 for real tokens and 0 for padding
   * @return float32 logits {@code [B, T, V]}
   */
  NDArray logits(NDArray inputIds, NDArray attentionMask);
}
