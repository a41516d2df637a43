package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dynamic loss scaling: skip and back off on overflow, grow after clean steps, unscale first. */
class GradScalerTest {

  @Test
  void defaultsAreTorchGradScalers() {
    GradScaler s = GradScaler.builder().build();
    assertEquals(65536f, s.scale());
    assertEquals(new GradScaler.State(65536f, 0, 0), s.state());
  }

  @Test
  void overflowSkipsTheStepAndHalvesTheScale() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = param(m, 1, 2, 3);
      GradScaler s = GradScaler.builder().optGrowthInterval(2).build();
      setGradient(p, 1, 1, 1);
      assertFalse(s.unscale(List.of(p)));
      s.update();
      setGradient(p, 1, Float.POSITIVE_INFINITY, 1);
      assertTrue(s.unscale(List.of(p)), "an inf gradient must skip the step");
      s.update();
      assertEquals(32768f, s.scale());
      assertEquals(1, s.skippedSteps());
      setGradient(p, 1, Float.NaN, 1);
      assertTrue(s.unscale(List.of(p)), "a NaN gradient must skip the step");
      s.update();
      assertEquals(16384f, s.scale());
      // The overflow reset the run of clean steps: one clean step does not grow the scale yet.
      setGradient(p, 1, 1, 1);
      assertFalse(s.unscale(List.of(p)));
      s.update();
      assertEquals(new GradScaler.State(16384f, 1, 2), s.state());
    }
  }

  @Test
  void scaleGrowsAfterTheIntervalOfCleanSteps() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = param(m, 1);
      GradScaler s = GradScaler.builder().optInitScale(4).optGrowthInterval(3).build();
      float[] expected = {4, 4, 8, 8, 8, 16};
      for (float e : expected) {
        setGradient(p, 1);
        assertFalse(s.unscale(List.of(p)));
        s.update();
        assertEquals(e, s.scale());
      }
      assertEquals(0, s.skippedSteps());
    }
  }

  @Test
  void unscaleRestoresTheTrueGradientsBeforeClipping() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = param(m, 0, 0);
      GradScaler s = GradScaler.builder().optInitScale(1024).build();
      float[] truth = {3, 4};
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(s.scale(p.mul(m.create(truth)).sum()));
      }
      assertArrayEquals(new float[] {3072, 4096}, p.getGradient().toFloatArray());
      assertFalse(s.unscale(List.of(p)));
      // Clipping sees the norm of the true gradients (5), not of the scaled ones.
      assertEquals(5.0, GradientClipping.clipGlobalNorm(List.of(p), 1.0), 1e-6);
      assertArrayEquals(new float[] {0.6f, 0.8f}, p.getGradient().toFloatArray(), 1e-6f);
    }
  }

  @Test
  void stateRoundTripsAndUpdateNeedsUnscale() {
    GradScaler s = GradScaler.builder().build();
    s.restore(new GradScaler.State(128f, 7, 3));
    assertEquals(new GradScaler.State(128f, 7, 3), s.state());
    assertThrows(IllegalStateException.class, s::update);
    assertThrows(IllegalArgumentException.class, () -> new GradScaler.State(0f, 0, 0));
  }

  private static NDArray param(NDManager m, float... values) {
    NDArray p = m.create(values);
    p.setRequiresGradient(true);
    return p;
  }

  /** Leaves exactly {@code g} in the gradient (d/dp sum(p * g) = g), replacing what was there. */
  private static void setGradient(NDArray p, float... g) {
    JniUtils.zeroGrad((PtNDArray) p);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(p.mul(p.getManager().create(g)).sum());
    }
  }
}
