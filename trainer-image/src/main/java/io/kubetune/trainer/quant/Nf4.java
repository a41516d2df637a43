package io.kubetune.trainer.quant;

/**
 * The 4-bit NormalFloat code of bitsandbytes and its scalar math: nearest-code lookup, nibble
 * packing, block absmax.
 *
 * <p>The table is {@code bitsandbytes.functional.get_4bit_type("nf4")} constant for constant; the
 * decision thresholds are those of bitsandbytes' {@code dQuantizeNF4} (midpoints of adjacent codes,
 * a value exactly on a midpoint takes the lower code, as {@code x > threshold} and {@code
 * torch.argmin} both do).
 */
public final class Nf4 {

  /** Elements per absmax block, as bitsandbytes' default {@code blocksize=64} for 4-bit. */
  public static final int DEFAULT_BLOCK_SIZE = 64;

  /** The 16 NF4 values in index order; index 7 is exactly zero. */
  private static final float[] CODE = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f
  };

  /** Upper decision boundary of index {@code i}, from bitsandbytes' {@code dQuantizeNF4} tree. */
  private static final float[] THRESHOLDS = {
    -0.8480964004993439f,
    -0.6106329262256622f,
    -0.4599952697753906f,
    -0.33967943489551544f,
    -0.23460740596055984f,
    -0.13791173323988914f,
    -0.045525018125772476f,
    0.03979014977812767f,
    0.1202552504837513f,
    0.2035212516784668f,
    0.2920137718319893f,
    0.3893125355243683f,
    0.5016634166240692f,
    0.6427869200706482f,
    0.8614784181118011f
  };

  private Nf4() {}

  /** A copy of the 16 code values. */
  public static float[] code() {
    return CODE.clone();
  }

  /** A copy of the 15 decision thresholds between adjacent codes. */
  public static float[] thresholds() {
    return THRESHOLDS.clone();
  }

  /**
   * The index of the code nearest to a value already divided by its block absmax.
   *
   * <p>NaN (an all-zero block: {@code 0 * (1 / 0)}) maps to index 0 as in bitsandbytes; it
   * dequantizes to {@code -1 * 0 = 0} all the same.
   */
  public static int index(float normalized) {
    int i = 0;
    while (i < THRESHOLDS.length && normalized > THRESHOLDS[i]) {
      i++;
    }
    return i;
  }

  /** The code value of an index in {@code [0, 16)}. */
  public static float value(int index) {
    return CODE[index];
  }

  /** Number of blocks covering {@code n} elements. */
  public static int blocks(long n, int blockSize) {
    return Math.toIntExact((n + blockSize - 1) / blockSize);
  }

  /** The largest absolute value of each block of {@code blockSize} consecutive elements. */
  public static float[] absmax(float[] values, int blockSize) {
    float[] absmax = new float[blocks(values.length, blockSize)];
    for (int i = 0; i < values.length; i++) {
      int b = i / blockSize;
      absmax[b] = Math.max(absmax[b], Math.abs(values[i]));
    }
    return absmax;
  }

  /**
   * Quantizes {@code values} blockwise to packed 4-bit indices.
   *
   * @param values the flattened weight, row-major
   * @param absmax the per-block absmax ({@link #absmax})
   * @param blockSize elements per block
   * @return {@code ceil(n / 2)} bytes, element {@code 2k} in the high nibble of byte {@code k}
   */
  public static byte[] quantize(float[] values, float[] absmax, int blockSize) {
    byte[] packed = new byte[(values.length + 1) / 2];
    for (int i = 0; i < values.length; i++) {
      // bitsandbytes multiplies by the reciprocal rather than dividing; keep its rounding.
      float inverse = 1f / absmax[i / blockSize];
      int q = index(values[i] * inverse);
      packed[i >> 1] |= (byte) ((i & 1) == 0 ? q << 4 : q);
    }
    return packed;
  }

  /** The 4-bit index of element {@code i} of a packed array. */
  public static int unpack(byte[] packed, long i) {
    int b = packed[Math.toIntExact(i >> 1)] & 0xff;
    return (i & 1) == 0 ? b >>> 4 : b & 0x0f;
  }

  /** Dequantizes {@code n} elements: {@code code[index] * absmax[block]}. */
  public static float[] dequantize(byte[] packed, float[] absmax, int blockSize, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = CODE[unpack(packed, i)] * absmax[i / blockSize];
    }
    return out;
  }
}
