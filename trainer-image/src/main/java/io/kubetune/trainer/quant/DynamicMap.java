package io.kubetune.trainer.quant;

import java.util.Arrays;

/**
 * bitsandbytes' signed dynamic 8-bit code ({@code create_dynamic_map(signed=True)}) and blockwise
 * 8-bit quantization with it ({@code quantize_blockwise}), used for QLoRA's double quantization of
 * the NF4 absmax constants.
 */
public final class DynamicMap {

  /** Elements per second-level absmax block, as bitsandbytes' {@code blocksize=256}. */
  public static final int DEFAULT_BLOCK_SIZE = 256;

  private static final float[] CODE = create();

  private DynamicMap() {}

  /** A copy of the 256 sorted code values, from about -0.993 to 1. */
  public static float[] code() {
    return CODE.clone();
  }

  /** The code value of an index in {@code [0, 256)}. */
  public static float value(int index) {
    return CODE[index];
  }

  /**
   * Recomputes {@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)} with
   * torch's float32 arithmetic: {@code linspace} (which evaluates {@code start + step * k} as a
   * fused multiply-add from each end), bucket means and scaling all in float32, so every value is
   * bit-identical to the table bitsandbytes builds.
   */
  private static float[] create() {
    float[] data = new float[256];
    int n = 0;
    for (int i = 0; i < 7; i++) {
      int items = (1 << i) + 1;
      float start = 0.1f;
      float end = 1f;
      float step = (end - start) / (items - 1);
      float[] bounds = new float[items];
      int half = items / 2;
      for (int k = 0; k < items; k++) {
        bounds[k] =
            k < half
                ? Math.fma(step, (float) k, start)
                : Math.fma(-step, (float) (items - k - 1), end);
      }
      float scale = (float) Math.pow(10, i - 6);
      for (int sign = 1; sign >= -1; sign -= 2) {
        for (int k = 0; k + 1 < items; k++) {
          float mean = (bounds[k] + bounds[k + 1]) / 2f;
          data[n++] = mean * (sign * scale);
        }
      }
    }
    data[n++] = 0f;
    data[n++] = 1f;
    if (n != 256) {
      throw new IllegalStateException("dynamic map has " + n + " entries");
    }
    Arrays.sort(data);
    return data;
  }

  /** The index of the nearest code; a tie takes the lower index, as {@code torch.argmin}. */
  public static int index(float normalized) {
    int hi = Arrays.binarySearch(CODE, normalized);
    if (hi >= 0) {
      return hi;
    }
    hi = -hi - 1;
    if (hi == 0) {
      return 0;
    }
    if (hi == CODE.length) {
      return CODE.length - 1;
    }
    int lo = hi - 1;
    return Math.abs(normalized - CODE[hi]) < Math.abs(normalized - CODE[lo]) ? hi : lo;
  }

  /**
   * Quantizes blockwise as bitsandbytes' {@code quantize_blockwise}: per block the absmax, each
   * value times its reciprocal, clamped to {@code [-1, 1]}, mapped to the nearest code.
   *
   * @return the 8-bit indices and the fp32 absmax of each block
   */
  public static Quantized quantize(float[] values, int blockSize) {
    float[] absmax = Nf4.absmax(values, blockSize);
    byte[] q = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      float scaled = values[i] * (1f / absmax[i / blockSize]);
      // NaN (all-zero block) stays NaN through the clamp and maps to index 0, as argmin does.
      float clamped = Float.isNaN(scaled) ? scaled : Math.max(-1f, Math.min(1f, scaled));
      q[i] = (byte) (Float.isNaN(clamped) ? 0 : index(clamped));
    }
    return new Quantized(q, absmax, blockSize);
  }

  /**
   * Blockwise 8-bit indices with their fp32 block absmax.
   *
   * @param indices one unsigned byte per value
   * @param absmax one fp32 per block
   * @param blockSize values per block
   */
  public record Quantized(byte[] indices, float[] absmax, int blockSize) {

    /** {@code code[index] * absmax[block]} for every value. */
    public float[] dequantize() {
      float[] out = new float[indices.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = CODE[indices[i] & 0xff] * absmax[i / blockSize];
      }
      return out;
    }
  }
}
