package io.kubetune.trainer.data;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** The seeded train/validation split. */
final class Split {
  private Split() {}

  /** How many of {@code n} examples are held out: round(n * fraction), at least 1, at most n-1. */
  static int validationCount(int n, double fraction) {
    if (fraction <= 0 || n < 2) {
      return 0;
    }
    return (int) Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  }

  /**
   * Which examples are held out. The same seed and count always give the same set, independent of
   * the JVM (java.util.Random's sequence is specified).
   */
  static BitSet heldOut(int n, double fraction, long seed) {
    List<Integer> order = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    BitSet held = new BitSet(n);
    int k = validationCount(n, fraction);
    for (int i = 0; i < k; i++) {
      held.set(order.get(i));
    }
    return held;
  }
}
