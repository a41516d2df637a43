package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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

  /**
   * Runs the model and sums the loss over the label tokens ({@link CausalLmLoss#sums}). The {@code
   * [B, T, V]} logits are closed before returning: backward does not read them.
   *
   * @param labels int64 {@code [B, T]}, unshifted
   */
  default CausalLmLoss.Sums lossSums(NDArray inputIds, NDArray attentionMask, NDArray labels) {
    NDArray logits = logits(inputIds, attentionMask);
    CausalLmLoss.Sums sums = CausalLmLoss.sums(logits, labels);
    logits.close();
    return sums;
  }

  /**
   * A Llama model without KV cache, as training and evaluation use it. Its {@link #lossSums} runs
   * {@code lm_head} and the cross-entropy only on the positions that predict a label token (HF's
   * loss ignores the others anyway), which saves that share of the {@code [B, T, vocab]} product
   * forward and backward. The sums are those of {@link CausalLmLoss#sums} over full logits.
   */
  static CausalLm of(LlamaModel model) {
    return new CausalLm() {
      @Override
      public NDArray logits(NDArray inputIds, NDArray attentionMask) {
        return model.forward(inputIds, attentionMask, null);
      }

      @Override
      public CausalLmLoss.Sums lossSums(NDArray inputIds, NDArray attentionMask, NDArray labels) {
        Shape s = labels.getShape();
        int b = (int) s.get(0);
        int t = (int) s.get(1);
        long[] all = labels.toType(DataType.INT64, false).toLongArray();
        // Position (i, j) predicts labels[i, j + 1] (HF's shift).
        int n = 0;
        for (int i = 0; i < b; i++) {
          for (int j = 0; j + 1 < t; j++) {
            if (all[i * t + j + 1] != TrainingExample.IGNORE_INDEX) {
              n++;
            }
          }
        }
        if (n == 0) {
          return CausalLm.super.lossSums(inputIds, attentionMask, labels);
        }
        long[] positions = new long[n];
        long[] targets = new long[n];
        int k = 0;
        for (int i = 0; i < b; i++) {
          for (int j = 0; j + 1 < t; j++) {
            long label = all[i * t + j + 1];
            if (label != TrainingExample.IGNORE_INDEX) {
              positions[k] = (long) i * t + j;
              targets[k] = label;
              k++;
            }
          }
        }
        NDArray hidden = model.hiddenStates(inputIds, attentionMask, null);
        long width = hidden.getShape().get(2);
        NDArray rows =
            inputIds.getManager().create(positions, new Shape(n, 1)).broadcast(new Shape(n, width));
        // gather is differentiable (its backward scatters into the [B * T, hidden] gradient).
        NDArray selected = hidden.reshape((long) b * t, width).gather(rows, 0);
        NDArray logits = model.head(selected);
        CausalLmLoss.Sums sums =
            CausalLmLoss.selectedSums(logits, inputIds.getManager().create(targets));
        logits.close();
        return sums;
      }
    };
  }
}
