package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GeneratorTest {

  // Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1.
  private static final float[] LOGITS = {
    (float) Math.log(0.15), (float) Math.log(0.5), (float) Math.log(0.05), (float) Math.log(0.3)
  };

  private static int[] counts(GenerationConfig config, int draws) {
    Random random = new Random(config.seed());
    int[] counts = new int[LOGITS.length];
    for (int i = 0; i < draws; i++) {
      counts[Generator.sample(LOGITS, config, random)]++;
    }
    return counts;
  }

  @Test
  void topPKeepsTheSmallestSetReachingTheMass() {
    // 0.5 + 0.3 >= 0.7: tokens 1 and 3 only, in ratio 5:3.
    int[] c = counts(GenerationConfig.sampling(1, 1f, 0.7f, 3), 8000);
    assertEquals(0, c[0]);
    assertEquals(0, c[2]);
    assertEquals(5.0 / 3.0, (double) c[1] / c[3], 0.15);
  }

  @Test
  void fullNucleusSamplesEveryTokenInProportion() {
    int[] c = counts(GenerationConfig.sampling(1, 1f, 1f, 4), 20000);
    assertEquals(0.05, c[2] / 20000.0, 0.01);
    assertEquals(0.5, c[1] / 20000.0, 0.02);
  }

  @Test
  void lowTemperatureConcentratesOnTheArgmax() {
    int[] c = counts(GenerationConfig.sampling(1, 0.05f, 1f, 5), 2000);
    assertEquals(2000, c[1]);
    assertEquals(1, Generator.argmax(LOGITS));
    int[] warm = counts(GenerationConfig.sampling(1, 3f, 1f, 5), 2000);
    assertTrue(warm[2] > 100, "high temperature flattens the distribution");
  }

  @Test
  void invalidSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> GenerationConfig.sampling(1, 0f, 1f, 0));
    assertThrows(IllegalArgumentException.class, () -> GenerationConfig.sampling(1, 1f, 0f, 0));
    assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(-1));
  }
}
