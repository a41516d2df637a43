package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class ScalarsTest {

  /**
   * Runs forward, then churns Java direct memory (garbage collections plus fresh buffers full of
   * NaN) before backward: a constant whose storage Java owned would be freed and overwritten by
   * then, and the gradient would read garbage.
   */
  private static float[] gradientUnderGcPressure(BiFunction<NDArray, Float, NDArray> op, float c) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.create(new float[] {1f, 2f, 3f, 4f}, new Shape(4));
      x.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray y = op.apply(x, c).sum();
        for (int round = 0; round < 20; round++) {
          System.gc();
          try (NDManager churn = manager.newSubManager()) {
            for (int i = 0; i < 200; i++) {
              float[] nan = new float[1];
              Arrays.fill(nan, Float.NaN);
              churn.create(nan);
            }
          }
        }
        collector.backward(y);
      }
      return x.getGradient().toFloatArray();
    }
  }

  @Test
  void mulGradientSurvivesGarbageCollectionBeforeBackward() {
    for (int attempt = 0; attempt < 5; attempt++) {
      assertArrayEquals(
          new float[] {3f, 3f, 3f, 3f}, gradientUnderGcPressure(Scalars::mul, 3f), 0f);
    }
  }

  @Test
  void divGradientSurvivesGarbageCollectionBeforeBackward() {
    for (int attempt = 0; attempt < 5; attempt++) {
      assertArrayEquals(
          new float[] {0.5f, 0.5f, 0.5f, 0.5f}, gradientUnderGcPressure(Scalars::div, 2f), 0f);
    }
  }
}
