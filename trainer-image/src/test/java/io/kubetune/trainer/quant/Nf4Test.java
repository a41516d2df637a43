package io.kubetune.trainer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.TrainerConfig;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** NF4 and double quantization against the table math of bitsandbytes, without the engine. */
class Nf4Test {

  @Test
  void codeTableIsSortedSymmetricAroundAnExactZeroWithMidpointThresholds() {
    float[] code = Nf4.code();
    assertEquals(16, code.length);
    assertEquals(-1f, code[0]);
    assertEquals(0f, code[7]);
    assertEquals(1f, code[15]);
    float[] t = Nf4.thresholds();
    for (int i = 0; i < 15; i++) {
      assertTrue(code[i] < code[i + 1], "codes must increase at " + i);
      // bitsandbytes' decision tree splits halfway between neighbouring codes.
      assertEquals((code[i] + code[i + 1]) / 2.0, t[i], 1e-7, "threshold " + i);
    }
  }

  @Test
  void everyCodeMapsToItself() {
    float[] code = Nf4.code();
    for (int i = 0; i < 16; i++) {
      assertEquals(i, Nf4.index(code[i]), "code " + code[i]);
    }
    // Block 0 holds every code (absmax 1), block 1 every code times 3 (absmax 3): both are exact.
    float[] values = new float[128];
    for (int i = 0; i < 64; i++) {
      values[i] = code[i % 16];
      values[64 + i] = 3f * code[i % 16];
    }
    Nf4Tensor q = Nf4Tensor.quantize(values, new long[] {2, 64}, opts(false));
    for (int i = 0; i < 128; i++) {
      assertEquals(i % 16, Nf4.unpack(q.packed(), i), "index of element " + i);
    }
    assertArrayEquals(new float[] {1f, 3f}, q.absmax(), 0f);
    assertArrayEquals(values, q.dequantize(), 0f);
  }

  @Test
  void randomWeightsDequantizeToTheNearestCodeTimesAbsmax() {
    for (long[] shape : new long[][] {{48, 80}, {3, 37}, {1, 1}}) {
      float[] w = gaussian((int) (shape[0] * shape[1]), 7, 0.05f);
      Nf4Tensor q = Nf4Tensor.quantize(w, shape, opts(false));
      float[] back = q.dequantize();
      float[] absmax = q.absmax();
      float[] code = Nf4.code();
      float halfGap = maxGap(code) / 2;
      for (int i = 0; i < w.length; i++) {
        float a = absmax[i / 64];
        float x = w[i] * (1f / a);
        int nearest = 0;
        for (int k = 1; k < 16; k++) {
          if (Math.abs(x - code[k]) < Math.abs(x - code[nearest])) {
            nearest = k;
          }
        }
        assertEquals(code[nearest] * a, back[i], 0f, "element " + i + " of " + shape[0]);
        assertTrue(Math.abs(back[i] - w[i]) <= halfGap * a * (1 + 1e-6), "error at " + i);
      }
    }
  }

  @Test
  void absmaxIsPerBlockOfSixtyFourFlattenedRowMajor() {
    // Two rows of 40: the first block ends inside the second row.
    float[] w = new float[80];
    w[63] = -2f;
    w[64] = 0.5f;
    Nf4Tensor q = Nf4Tensor.quantize(w, new long[] {2, 40}, opts(false));
    assertArrayEquals(new float[] {2f, 0.5f}, q.absmax(), 0f);
    float[] back = q.dequantize();
    assertEquals(-2f, back[63]);
    assertEquals(0.5f, back[64]);
    assertEquals(0f, back[0]);
  }

  @Test
  void packingPutsTheFirstElementInTheHighNibble() {
    float[] code = Nf4.code();
    float[] w = {code[2], code[13], code[15], code[0], code[9]};
    Nf4Tensor q = Nf4Tensor.quantize(w, new long[] {1, 5}, opts(false));
    byte[] packed = q.packed();
    assertEquals(3, packed.length);
    assertEquals((2 << 4) | 13, packed[0] & 0xff);
    assertEquals((15 << 4) | 0, packed[1] & 0xff);
    // An odd tail leaves the low nibble of the last byte zero.
    assertEquals(9 << 4, packed[2] & 0xff);
    assertEquals(2, Nf4.unpack(packed, 0));
    assertEquals(13, Nf4.unpack(packed, 1));
    assertEquals(9, Nf4.unpack(packed, 4));
  }

  @Test
  void allZeroBlockDequantizesToZero() {
    float[] w = new float[128];
    w[100] = 1f;
    float[] back = Nf4Tensor.quantize(w, new long[] {2, 64}, opts(false)).dequantize();
    for (int i = 0; i < 64; i++) {
      assertEquals(0f, Math.abs(back[i]), "element " + i);
    }
    assertEquals(1f, back[100]);
  }

  @Test
  void dynamicMapIsBitsandbytesSignedEightBitMap() {
    float[] code = DynamicMap.code();
    assertEquals(256, code.length);
    for (int i = 1; i < 256; i++) {
      assertTrue(code[i - 1] < code[i], "dynamic map must be strictly increasing at " + i);
    }
    // Spot values printed by torch running bitsandbytes' create_dynamic_map(signed=True).
    assertEquals(0xbf7e3333, Float.floatToRawIntBits(code[0]));
    assertEquals(0x00000000, Float.floatToRawIntBits(code[127]));
    assertEquals(0x3513a3b7, Float.floatToRawIntBits(code[128]));
    assertEquals(0x3f243334, Float.floatToRawIntBits(code[229]));
    assertEquals(0x3f800000, Float.floatToRawIntBits(code[255]));
  }

  @Test
  void doubleQuantizedAbsmaxStaysWithinHalfTheLargestGapOfTheDynamicMap() {
    float[] w = gaussian(64 * 700, 11, 0.02f);
    Nf4Tensor plain = Nf4Tensor.quantize(w, new long[] {700, 64}, opts(false));
    Nf4Tensor dq = Nf4Tensor.quantize(w, new long[] {700, 64}, opts(true));
    assertArrayEquals(plain.packed(), dq.packed(), "double quantization must not change codes");
    float[] exact = plain.absmax();
    float[] approx = dq.absmax();
    DynamicMap.Quantized q = dq.quantizedAbsmax();
    assertEquals(3, q.absmax().length, "700 blocks need 3 second-level blocks of 256");
    float halfGap = maxGap(DynamicMap.code()) / 2;
    double worst = 0;
    for (int i = 0; i < exact.length; i++) {
      float a2 = q.absmax()[i / 256];
      double err = Math.abs(approx[i] - exact[i]);
      worst = Math.max(worst, err / exact[i]);
      assertTrue(err <= halfGap * a2 * 1.0001 + 1e-9, "absmax " + i + " off by " + err);
    }
    // The NF4 bound still holds with the approximate scale.
    float[] back = dq.dequantize();
    for (int i = 0; i < w.length; i++) {
      assertEquals(Nf4.value(Nf4.unpack(dq.packed(), i)) * approx[i / 64], back[i], 0f);
    }
    System.out.printf("double-quantized absmax: worst relative error %.2e%n", worst);
  }

  @Test
  void bytesPerParameterIncludingConstants() {
    float[] w = gaussian(256 * 512, 3, 0.02f);
    long n = w.length;
    Nf4Tensor dq = Nf4Tensor.quantize(w, new long[] {256, 512}, opts(true));
    Nf4Tensor plain = Nf4Tensor.quantize(w, new long[] {256, 512}, opts(false));
    // Layout: n/2 packed bytes; one 8-bit absmax per 64; one fp32 per 256 absmax; one fp32 offset.
    assertEquals(n / 2 + n / 64 + 4 * ((n / 64 + 255) / 256) + 4, dq.bytes());
    assertEquals(n / 2 + 4 * (n / 64), plain.bytes());
    double dqPerParam = (double) dq.bytes() / n;
    assertTrue(dqPerParam <= 0.64, "double quant: " + dqPerParam + " bytes/param");
    assertTrue(dqPerParam < (double) plain.bytes() / n, "double quant must save memory");
    System.out.printf(
        "NF4 bytes/param: %.4f (double quant), %.4f (fp32 absmax)%n",
        dqPerParam, (double) plain.bytes() / n);
  }

  @Test
  void badInputIsRejectedWithTheFieldAndTheFix() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Nf4Options(60, true, 256, null));
    assertTrue(e.getMessage().contains("block size") && e.getMessage().contains("64"));
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Nf4Options.fromContract(method("fp4", null)));
    assertTrue(e.getMessage().contains("method.quantization") && e.getMessage().contains("nf4"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Nf4Tensor.quantize(new float[] {1f, Float.NaN}, new long[] {1, 2}, opts(true)));
    assertTrue(e.getMessage().contains("element 1"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Nf4Tensor.quantize(new float[3], new long[] {2, 2}, opts(true)));
    assertTrue(e.getMessage().contains("[2, 2]"));
    assertEquals(false, Nf4Options.fromContract(method("NF4", false)).doubleQuant());
    assertEquals(true, Nf4Options.fromContract(method(null, null)).doubleQuant());
  }

  private static TrainerConfig.Method method(String quantization, Boolean doubleQuant) {
    return new TrainerConfig.Method(
        "qlora", null, null, null, null, null, quantization, doubleQuant, null, null);
  }

  static Nf4Options opts(boolean doubleQuant) {
    return Nf4Options.defaults().withDoubleQuant(doubleQuant);
  }

  static float[] gaussian(int n, long seed, float std) {
    Random r = new Random(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (r.nextGaussian() * std);
    }
    return w;
  }

  private static float maxGap(float[] sorted) {
    float gap = 0;
    for (int i = 1; i < sorted.length; i++) {
      gap = Math.max(gap, sorted[i] - sorted[i - 1]);
    }
    return gap;
  }
}
