package io.kubetune.trainer.testing;

import io.kubetune.trainer.train.TrainingExample;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The tiny task the training tests learn on a {@link TinyModels} Llama: random word prompts of
 * varying length, each followed by a separator and answered with the same fixed completion.
 */
public final class FixedCompletion {

  private static final int SEPARATOR = 35;
  private static final int[] COMPLETION = {40, 41, 42, 43, 44, TinyModels.EOS};

  private FixedCompletion() {}

  /** {@code count} examples drawn from {@code seed}; loss only on the completion. */
  public static List<TrainingExample> examples(int count, long seed) {
    Random r = new Random(seed);
    int vocab = TinyModels.vocabSize();
    List<TrainingExample> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int prompt = 2 + r.nextInt(5);
      List<Integer> ids = new ArrayList<>();
      List<Integer> labels = new ArrayList<>();
      ids.add(TinyModels.BOS);
      labels.add(TrainingExample.IGNORE_INDEX);
      for (int t = 0; t < prompt; t++) {
        ids.add(4 + r.nextInt(30));
        labels.add(TrainingExample.IGNORE_INDEX);
      }
      // The answer marker ends the prompt, as a chat template's assistant header does.
      ids.add(SEPARATOR);
      labels.add(TrainingExample.IGNORE_INDEX);
      for (int c : COMPLETION) {
        if (c >= vocab) {
          throw new IllegalStateException("completion token " + c + " outside the tiny vocabulary");
        }
        ids.add(c);
        labels.add(c);
      }
      out.add(
          new TrainingExample(
              ids.stream().mapToInt(Integer::intValue).toArray(),
              labels.stream().mapToInt(Integer::intValue).toArray()));
    }
    return out;
  }
}
