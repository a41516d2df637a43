package io.kubetune.trainer.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.kubetune.trainer.train.CausalLmLoss;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LoraLinearTest {

  private static NDArray random(NDManager m, Random r, long... shape) {
    Shape s = new Shape(shape);
    float[] v = new float[Math.toIntExact(s.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return m.create(v, s);
  }

  @Test
  void initialisesLikePeftAndStartsAsTheBaseModel() {
    try (NDManager m = NDManager.newBaseManager()) {
      Random r = new Random(1);
      DenseLinear base = new DenseLinear(random(m, r, 48, 64));
      LoraLinear lora =
          LoraLinear.builder().setBase(base).setManager(m).setRank(16).optScale(2).build();
      float[] a = lora.loraA().toFloatArray();
      double bound = 1 / Math.sqrt(64);
      double sumSq = 0;
      for (float v : a) {
        assertTrue(Math.abs(v) <= bound, "A must lie in [-1/sqrt(in), 1/sqrt(in)]");
        sumSq += v * v;
      }
      // Uniform(-b, b) has variance b^2/3; 1024 draws pin it to within ~10 %.
      assertEquals(bound * bound / 3, sumSq / a.length, 0.1 * bound * bound / 3);
      assertEquals(new Shape(16, 64), lora.loraA().getShape());
      assertEquals(new Shape(48, 16), lora.loraB().getShape());
      assertEquals(0f, lora.loraB().abs().max().getFloat());
      NDArray x = random(m, r, 2, 5, 64);
      assertArrayEquals(base.forward(x).toFloatArray(), lora.forward(x).toFloatArray(), 0f);
      assertTrue(lora.loraA().hasGradient() && lora.loraB().hasGradient());
      assertFalse(base.weight().hasGradient(), "the base weight must not require gradients");
    }
  }

  @Test
  void forwardAddsTheScaledLowRankUpdate() {
    try (NDManager m = NDManager.newBaseManager()) {
      Random r = new Random(2);
      DenseLinear base = new DenseLinear(random(m, r, 6, 5));
      LoraLinear lora =
          LoraLinear.builder().setBase(base).setManager(m).setRank(3).optScale(0.75).build();
      lora.loraB().set(random(m, r, 6, 3).toFloatArray());
      NDArray x = random(m, r, 4, 5);
      float[] xs = x.toFloatArray();
      float[] w = base.weight().toFloatArray();
      float[] a = lora.loraA().toFloatArray();
      float[] b = lora.loraB().toFloatArray();
      float[] y = lora.forward(x).toFloatArray();
      for (int row = 0; row < 4; row++) {
        for (int o = 0; o < 6; o++) {
          double expected = 0;
          for (int i = 0; i < 5; i++) {
            expected += xs[row * 5 + i] * w[o * 5 + i];
          }
          for (int k = 0; k < 3; k++) {
            double down = 0;
            for (int i = 0; i < 5; i++) {
              down += xs[row * 5 + i] * a[k * 5 + i];
            }
            expected += 0.75 * b[o * 3 + k] * down;
          }
          assertEquals(expected, y[row * 6 + o], 1e-5);
        }
      }
    }
  }

  @Test
  void dropoutActsOnlyInTrainingAndIsSeeded() {
    try (NDManager m = NDManager.newBaseManager()) {
      Random r = new Random(3);
      DenseLinear base = new DenseLinear(random(m, r, 8, 16));
      LoraLinear lora =
          LoraLinear.builder().setBase(base).setManager(m).setRank(4).optDropout(0.5).build();
      lora.loraB().set(random(m, r, 8, 4).toFloatArray());
      NDArray x = random(m, r, 3, 16);
      float[] eval1 = lora.forward(x).toFloatArray();
      float[] eval2 = lora.forward(x).toFloatArray();
      assertArrayEquals(eval1, eval2, 0f);
      lora.setTraining(true);
      Engine.getInstance().setRandomSeed(7);
      float[] train1 = lora.forward(x).toFloatArray();
      Engine.getInstance().setRandomSeed(7);
      float[] train2 = lora.forward(x).toFloatArray();
      assertArrayEquals(train1, train2, 0f, "same seed, same dropout mask");
      assertNotEquals(eval1[0], train1[0]);
    }
  }

  /**
   * Central finite differences on a tiny causal LM (frozen embedding, LoRA output projection,
   * HF-shifted cross-entropy) against autograd, in fp32.
   */
  @Test
  void gradientsMatchFiniteDifferences() {
    try (NDManager m = NDManager.newBaseManager()) {
      Random r = new Random(4);
      int vocab = 7;
      int dim = 5;
      NDArray embedding = random(m, r, vocab, dim);
      DenseLinear head = new DenseLinear(random(m, r, vocab, dim));
      LoraLinear lora =
          LoraLinear.builder().setBase(head).setManager(m).setRank(2).optScale(1.5).build();
      lora.loraB().set(random(m, r, vocab, 2).muli(0.5).toFloatArray());
      NDArray ids = m.create(new long[] {1, 4, 2, 6, 3, 0, 5, 2}, new Shape(2, 4));
      NDArray labels = m.create(new long[] {-100, 4, 2, 6, 3, -100, 5, 2}, new Shape(2, 4));

      float[] analyticA;
      float[] analyticB;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = loss(embedding, ids, lora, labels);
        gc.backward(loss);
        analyticA = lora.loraA().getGradient().toFloatArray();
        analyticB = lora.loraB().getGradient().toFloatArray();
      }
      double maxErr = 0;
      double maxGrad = 0;
      for (NDArray p : lora.trainableParameters()) {
        float[] analytic = p == lora.loraA() ? analyticA : analyticB;
        float[] values = p.toFloatArray();
        for (int i = 0; i < values.length; i++) {
          double h = 1e-2;
          float[] plus = values.clone();
          plus[i] += (float) h;
          p.set(plus);
          double lp = loss(embedding, ids, lora, labels).getFloat();
          float[] minus = values.clone();
          minus[i] -= (float) h;
          p.set(minus);
          double lm = loss(embedding, ids, lora, labels).getFloat();
          p.set(values);
          double numeric = (lp - lm) / (plus[i] - minus[i]);
          maxErr = Math.max(maxErr, Math.abs(numeric - analytic[i]));
          maxGrad = Math.max(maxGrad, Math.abs(analytic[i]));
        }
      }
      // A gradient that is off by 1 % of its scale (e.g. a wrong LoRA scale) fails this.
      assertTrue(maxGrad > 1e-2, "the check needs non-trivial gradients");
      assertTrue(
          maxErr < 2e-3 * maxGrad,
          "max |finite difference - autograd| = " + maxErr + " with max |grad| = " + maxGrad);
      System.out.printf(
          "LoRA gradient check: max abs err %.3g, max |grad| %.3g%n", maxErr, maxGrad);
    }
  }

  private static NDArray loss(NDArray embedding, NDArray ids, LoraLinear head, NDArray labels) {
    NDArray hidden = embedding.get(ids.toType(DataType.INT64, false));
    NDArray logits = head.forward(hidden);
    CausalLmLoss.Sums sums = CausalLmLoss.sums(logits, labels);
    return sums.nllSum().div(6f);
  }
}
