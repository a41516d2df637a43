package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import io.kubetune.trainer.model.LlamaModel;

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

  /** A Llama model without KV cache, as training and evaluation use it. */
  static CausalLm of(LlamaModel model) {
    return (inputIds, attentionMask) -> model.forward(inputIds, attentionMask, null);
  }
}
