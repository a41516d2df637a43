package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PackingTest {
  private static final int EOS = 2;
  private static final int I = TokenizedExample.IGNORE;

  private static TokenizedExample ex(int[] ids, int[] labels) {
    return new TokenizedExample(ids, labels);
  }

  @Test
  void examplesStayWholeAndSeparatorsFollowTheLabelOfTheLastToken() {
    TokenizedExample chat = ex(new int[] {5, 6, 7}, new int[] {I, 6, I});
    TokenizedExample text = ex(new int[] {8, 9}, new int[] {8, 9});
    TokenizedExample endsWithEos = ex(new int[] {4, EOS}, new int[] {I, EOS});
    List<TokenizedExample> packed = Packing.pack(List.of(chat, text, endsWithEos, chat), 8, EOS);
    assertEquals(
        List.of(
            ex(new int[] {5, 6, 7, EOS, 8, 9, EOS}, new int[] {I, 6, I, I, 8, 9, EOS}),
            ex(new int[] {4, EOS, 5, 6, 7, EOS}, new int[] {I, EOS, I, 6, I, I})),
        packed);
  }

  @Test
  void anExampleOfFullLengthFillsASequenceAlone() {
    TokenizedExample full = ex(new int[] {1, 3, 4, 5}, new int[] {1, 3, 4, 5});
    List<TokenizedExample> packed = Packing.pack(List.of(full, full), 4, EOS);
    assertEquals(List.of(full, full), packed);
  }
}
