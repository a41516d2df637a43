package io.kubetune.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packs examples into sequences of at most {@code maxSeqLength} tokens.
 *
 * <p>Each example is followed by EOS (unless it already ends with EOS; the separator is labeled
 * when the example's last token is, so text data learns to end documents) and examples are laid one
 * after another in their order; an example that does not fit the space left starts the next
 * sequence, so no example is split across sequences (TRL's {@code bfd} strategy also keeps examples
 * whole). As with HF's default packing, attention is NOT separated between the examples of a
 * sequence: later examples attend to earlier ones and positions run on.
 */
public final class Packing {
  private Packing() {}

  /**
   * Packs examples.
   *
   * @param examples examples no longer than {@code maxSeqLength}
   * @param maxSeqLength the longest sequence
   * @param eosId EOS id, or -1 to separate nothing
   */
  public static List<TokenizedExample> pack(
      List<TokenizedExample> examples, int maxSeqLength, int eosId) {
    List<TokenizedExample> out = new ArrayList<>();
    int[] ids = new int[maxSeqLength];
    int[] labels = new int[maxSeqLength];
    int used = 0;
    for (TokenizedExample e : examples) {
      TokenizedExample piece = withSeparator(e, eosId).truncate(maxSeqLength);
      if (used + piece.length() > maxSeqLength && used > 0) {
        out.add(new TokenizedExample(Arrays.copyOf(ids, used), Arrays.copyOf(labels, used)));
        used = 0;
      }
      System.arraycopy(piece.inputIds(), 0, ids, used, piece.length());
      System.arraycopy(piece.labels(), 0, labels, used, piece.length());
      used += piece.length();
    }
    if (used > 0) {
      out.add(new TokenizedExample(Arrays.copyOf(ids, used), Arrays.copyOf(labels, used)));
    }
    return out;
  }

  /** The example followed by the EOS separator that packing inserts. */
  static TokenizedExample withSeparator(TokenizedExample e, int eosId) {
    int n = e.length();
    if (eosId < 0 || (n > 0 && e.inputIds()[n - 1] == eosId)) {
      return e;
    }
    int[] ids = Arrays.copyOf(e.inputIds(), n + 1);
    int[] labels = Arrays.copyOf(e.labels(), n + 1);
    ids[n] = eosId;
    labels[n] =
        n > 0 && e.labels()[n - 1] != TokenizedExample.IGNORE ? eosId : TokenizedExample.IGNORE;
    return new TokenizedExample(ids, labels);
  }
}
