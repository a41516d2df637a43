package io.kubetune.trainer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** {@link Nf4Linear} on the engine against the Java table math of {@link Nf4Tensor}. */
class Nf4LinearTest {

  @Test
  void engineDequantizationIsBitIdenticalToTheTableMath() {
    // 24x128 fills whole blocks; 5x40 ends in a short block; 700x64 has 700 absmax values, so a
    // short second-level block too.
    for (long[] shape : new long[][] {{24, 128}, {5, 40}, {700, 64}}) {
      for (boolean dq : new boolean[] {false, true}) {
        float[] w = Nf4Test.gaussian((int) (shape[0] * shape[1]), 5, 0.1f);
        Nf4Tensor t = Nf4Tensor.quantize(w, shape, Nf4Test.opts(dq));
        try (NDManager model = NDManager.newBaseManager();
            NDManager step = model.newSubManager()) {
          Nf4Linear linear = new Nf4Linear(t, null, Nf4Tables.create(model), model);
          NDArray deq = linear.dequantize(step);
          assertSame(step, deq.getManager(), "the dequantized weight is the step's temporary");
          assertEquals(new Shape(shape), deq.getShape());
          assertArrayEquals(t.dequantize(), deq.toFloatArray(), 0f, "shape " + shape[0]);
        }
      }
    }
  }

  @Test
  void forwardEqualsInputTimesDequantizedWeightTransposedPlusBias() {
    int out = 24;
    int in = 96;
    float[] w = Nf4Test.gaussian(out * in, 9, 0.1f);
    float[] b = Nf4Test.gaussian(out, 10, 1f);
    float[] x = Nf4Test.gaussian(2 * 3 * in, 11, 1f);
    Nf4Tensor t = Nf4Tensor.quantize(w, new long[] {out, in}, Nf4Test.opts(true));
    float[] deq = t.dequantize();
    try (NDManager model = NDManager.newBaseManager();
        NDManager step = model.newSubManager()) {
      NDArray bias = model.create(b);
      Nf4Linear linear = new Nf4Linear(t, bias, Nf4Tables.create(model), model);
      NDArray y = linear.forward(step.create(x, new Shape(2, 3, in)));
      assertEquals(new Shape(2, 3, out), y.getShape());
      assertSame(step, y.getManager());
      float[] actual = y.toFloatArray();
      for (int r = 0; r < 6; r++) {
        for (int o = 0; o < out; o++) {
          double expected = b[o];
          for (int i = 0; i < in; i++) {
            expected += (double) x[r * in + i] * deq[o * in + i];
          }
          assertEquals(expected, actual[r * out + o], 1e-4, "row " + r + " output " + o);
        }
      }
    }
  }

  @Test
  void forwardLeavesNothingBehindInTheModelsManager() {
    Nf4Tensor t =
        Nf4Tensor.quantize(Nf4Test.gaussian(32 * 100, 1, 0.1f), new long[] {32, 100}, opts());
    try (NDManager model = NDManager.newBaseManager()) {
      Nf4Linear linear = new Nf4Linear(t, null, Nf4Tables.create(model), model);
      int resident = model.getManagedArrays().size();
      for (int i = 0; i < 5; i++) {
        try (NDManager step = model.newSubManager()) {
          linear.forward(step.ones(new Shape(4, 100))).toFloatArray();
        }
      }
      // Temporaries of every step went with the step: a long run does not grow.
      assertEquals(resident, model.getManagedArrays().size());
    }
  }

  @Test
  void gradientsReachTheInputOnlyAndTheCodesNeverChange() {
    int out = 16;
    int in = 64;
    Nf4Tensor t =
        Nf4Tensor.quantize(Nf4Test.gaussian(out * in, 2, 0.1f), new long[] {out, in}, opts());
    float[] deq = t.dequantize();
    try (NDManager model = NDManager.newBaseManager();
        NDManager step = model.newSubManager()) {
      Nf4Linear linear = new Nf4Linear(t, null, Nf4Tables.create(model), model);
      byte[] before = linear.packedBytes();
      NDArray x = step.create(Nf4Test.gaussian(3 * in, 4, 1f), new Shape(3, in));
      x.setRequiresGradient(true);
      float[] dx;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y = linear.forward(x);
        gc.backward(y.sum());
        dx = x.getGradient().toFloatArray();
      }
      // d(sum(x W^T))/dx[r, i] = sum_o W[o, i].
      for (int r = 0; r < 3; r++) {
        for (int i = 0; i < in; i++) {
          double expected = 0;
          for (int o = 0; o < out; o++) {
            expected += deq[o * in + i];
          }
          assertEquals(expected, dx[r * in + i], 1e-5, "dx[" + r + ", " + i + "]");
        }
      }
      assertTrue(linear.trainableParameters().isEmpty());
      assertArrayEquals(before, linear.packedBytes());
      assertArrayEquals(t.packed(), before, "the engine holds the packed codes as quantized");
    }
  }

  @Test
  void residentBytesAreThePackedCodesAndConstants() {
    long[] shape = {256, 512};
    float[] w = Nf4Test.gaussian(256 * 512, 3, 0.02f);
    try (NDManager model = NDManager.newBaseManager()) {
      Nf4Tables tables = Nf4Tables.create(model);
      for (boolean dq : new boolean[] {false, true}) {
        Nf4Tensor t = Nf4Tensor.quantize(w, shape, Nf4Test.opts(dq));
        Nf4Linear linear = new Nf4Linear(t, null, tables, model);
        assertEquals(t.bytes(), linear.residentBytes(), "double quant " + dq);
        assertTrue(linear.residentBytes() <= 0.64 * w.length);
      }
    }
  }

  private static Nf4Options opts() {
    return Nf4Options.defaults();
  }
}
