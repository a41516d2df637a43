package io.kubetune.trainer.train;

/**
 * One tokenized training or validation example, as the data pipeline produces it.
 *
 * @param inputIds token ids
 * @param labels the same ids where the loss applies and {@link #IGNORE_INDEX} elsewhere; unshifted
 *     (the loss shifts them, as Hugging Face does)
 */
public record TrainingExample(int[] inputIds, int[] labels) {

  /** Label of a position that does not count towards the loss (PyTorch's ignore_index). */
  public static final int IGNORE_INDEX = -100;

  /** Checks that ids and labels line up. */
  public TrainingExample {
    if (inputIds == null || labels == null) {
      throw new IllegalArgumentException("a training example needs inputIds and labels");
    }
    if (inputIds.length != labels.length) {
      throw new IllegalArgumentException(
          "inputIds ("
              + inputIds.length
              + ") and labels ("
              + labels.length
              + ") must have the same length");
    }
    if (inputIds.length == 0) {
      throw new IllegalArgumentException("a training example must hold at least one token");
    }
  }

  /** Number of tokens. */
  public int length() {
    return inputIds.length;
  }

  /** Number of positions that count towards the loss after the causal shift. */
  public int labelTokens() {
    int n = 0;
    for (int i = 1; i < labels.length; i++) {
      if (labels[i] != IGNORE_INDEX) {
        n++;
      }
    }
    return n;
  }
}
