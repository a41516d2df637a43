package io.kubetune.trainer.data;

import java.util.Arrays;

/**
 * One training sequence: token ids and, position by position, the label the loss uses.
 *
 * <p>Labels are NOT shifted: {@code labels[i]} is the token at position {@code i} (equal to {@code
 * inputIds[i]}) or {@link #IGNORE} where no loss is taken. The loss shifts them the way HF
 * transformers does (position {@code i} predicts label {@code i + 1}).
 *
 * @param inputIds token ids
 * @param labels {@code inputIds[i]} where the loss applies, {@link #IGNORE} elsewhere; same length
 */
public record TokenizedExample(int[] inputIds, int[] labels) {
  /** Label of positions that take no loss (PyTorch's {@code ignore_index}). */
  public static final int IGNORE = -100;

  public TokenizedExample {
    if (inputIds.length != labels.length) {
      throw new IllegalArgumentException(
          "inputIds and labels differ in length: " + inputIds.length + " vs " + labels.length);
    }
  }

  /** Number of tokens. */
  public int length() {
    return inputIds.length;
  }

  /** Number of positions that take loss. */
  public int labeledTokens() {
    int n = 0;
    for (int label : labels) {
      if (label != IGNORE) {
        n++;
      }
    }
    return n;
  }

  /** The first {@code n} tokens and labels. */
  public TokenizedExample truncate(int n) {
    if (n >= inputIds.length) {
      return this;
    }
    return new TokenizedExample(Arrays.copyOf(inputIds, n), Arrays.copyOf(labels, n));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenizedExample other
        && Arrays.equals(inputIds, other.inputIds)
        && Arrays.equals(labels, other.labels);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(labels);
  }

  @Override
  public String toString() {
    return "TokenizedExample[inputIds="
        + Arrays.toString(inputIds)
        + ", labels="
        + Arrays.toString(labels)
        + "]";
  }
}
