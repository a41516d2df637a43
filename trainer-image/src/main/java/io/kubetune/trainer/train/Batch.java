package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * A right-padded micro-batch. Padding is masked out of attention and labelled {@link
 * TrainingExample#IGNORE_INDEX}, so it changes neither the loss nor the gradients.
 *
 * @param inputIds int64 {@code [B, T]}
 * @param attentionMask int64 {@code [B, T]}
 * @param labels int64 {@code [B, T]}, unshifted
 * @param tokens real (unpadded) tokens
 * @param labelTokens positions that count towards the loss after the shift
 */
public record Batch(
    NDArray inputIds, NDArray attentionMask, NDArray labels, long tokens, long labelTokens) {

  /**
   * Pads and stacks examples.
   *
   * @param examples at least one example
   * @param manager where the arrays go (normally inside the caller's step scope)
   * @param padTokenId id for padded positions
   * @param maxSeqLength truncate longer examples to this many tokens (0: no limit)
   */
  public static Batch collate(
      List<TrainingExample> examples, NDManager manager, int padTokenId, int maxSeqLength) {
    int rows = examples.size();
    int width = 0;
    for (TrainingExample e : examples) {
      width = Math.max(width, cut(e.length(), maxSeqLength));
    }
    long[] ids = new long[rows * width];
    long[] mask = new long[rows * width];
    long[] labels = new long[rows * width];
    long tokens = 0;
    long labelTokens = 0;
    for (int r = 0; r < rows; r++) {
      TrainingExample e = examples.get(r);
      int len = cut(e.length(), maxSeqLength);
      for (int t = 0; t < width; t++) {
        int i = r * width + t;
        if (t < len) {
          ids[i] = e.inputIds()[t];
          mask[i] = 1;
          labels[i] = e.labels()[t];
          if (t > 0 && e.labels()[t] != TrainingExample.IGNORE_INDEX) {
            labelTokens++;
          }
        } else {
          ids[i] = padTokenId;
          labels[i] = TrainingExample.IGNORE_INDEX;
        }
      }
      tokens += len;
    }
    Shape shape = new Shape(rows, width);
    return new Batch(
        manager.create(ids, shape),
        manager.create(mask, shape),
        manager.create(labels, shape),
        tokens,
        labelTokens);
  }

  /** Label tokens the batch would have, without building it. */
  public static long labelTokens(List<TrainingExample> examples, int maxSeqLength) {
    long n = 0;
    for (TrainingExample e : examples) {
      int len = cut(e.length(), maxSeqLength);
      for (int t = 1; t < len; t++) {
        if (e.labels()[t] != TrainingExample.IGNORE_INDEX) {
          n++;
        }
      }
    }
    return n;
  }

  private static int cut(int length, int maxSeqLength) {
    return maxSeqLength > 0 ? Math.min(length, maxSeqLength) : length;
  }
}
