package io.kubetune.trainer.quant;

import java.util.Arrays;

/**
 * A weight quantized to NF4 in bitsandbytes' layout, held on the Java heap: packed 4-bit indices
 * plus either fp32 block absmax values or their double-quantized form.
 *
 * <p>Layout (bitsandbytes {@code quantize_4bit}, {@code quant_type="nf4"}): the weight is flattened
 * row-major ({@code [out, in]}), cut into blocks of {@code blockSize} consecutive elements, each
 * element becomes the index of the code nearest to {@code x / absmax(block)}, and element {@code
 * 2k} goes to the high nibble of byte {@code k}, element {@code 2k+1} to the low nibble. With
 * double quantization the absmax vector {@code a} is stored as {@code offset = mean(a)} plus {@code
 * a - offset} quantized blockwise ({@code doubleQuantBlockSize}) to 8-bit indices into the signed
 * dynamic map with an fp32 absmax per second-level block.
 */
public final class Nf4Tensor {

  private final long[] shape;
  private final int size;
  private final int blockSize;
  private final byte[] packed;
  private final float[] absmax;
  private final DynamicMap.Quantized quantizedAbsmax;
  private final float offset;

  private Nf4Tensor(
      long[] shape,
      int size,
      int blockSize,
      byte[] packed,
      float[] absmax,
      DynamicMap.Quantized quantizedAbsmax,
      float offset) {
    this.shape = shape;
    this.size = size;
    this.blockSize = blockSize;
    this.packed = packed;
    this.absmax = absmax;
    this.quantizedAbsmax = quantizedAbsmax;
    this.offset = offset;
  }

  /**
   * Quantizes a weight.
   *
   * @param values the weight flattened row-major
   * @param shape its shape (e.g. {@code [out, in]})
   * @param options block sizes and double quantization
   * @throws IllegalArgumentException when the values do not fill the shape or are not finite
   */
  public static Nf4Tensor quantize(float[] values, long[] shape, Nf4Options options) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != values.length || values.length == 0) {
      throw new IllegalArgumentException(
          "weight of shape "
              + Arrays.toString(shape)
              + " needs "
              + n
              + " values, got "
              + values.length);
    }
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new IllegalArgumentException(
            "weight element " + i + " is " + values[i] + "; NF4 can only quantize finite weights");
      }
    }
    int bs = options.blockSize();
    float[] absmax = Nf4.absmax(values, bs);
    byte[] packed = Nf4.quantize(values, absmax, bs);
    if (!options.doubleQuant()) {
      return new Nf4Tensor(shape.clone(), values.length, bs, packed, absmax, null, 0f);
    }
    double sum = 0;
    for (float a : absmax) {
      sum += a;
    }
    float offset = (float) (sum / absmax.length);
    float[] centered = new float[absmax.length];
    for (int i = 0; i < absmax.length; i++) {
      centered[i] = absmax[i] - offset;
    }
    DynamicMap.Quantized q = DynamicMap.quantize(centered, options.doubleQuantBlockSize());
    return new Nf4Tensor(shape.clone(), values.length, bs, packed, null, q, offset);
  }

  /** The shape of the original weight. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements. */
  public int size() {
    return size;
  }

  /** Elements per absmax block. */
  public int blockSize() {
    return blockSize;
  }

  /** The packed indices, {@code ceil(size / 2)} bytes, first element in the high nibble. */
  public byte[] packed() {
    return packed.clone();
  }

  /** Whether the absmax constants are double quantized. */
  public boolean doubleQuant() {
    return quantizedAbsmax != null;
  }

  /** The 8-bit absmax indices and fp32 second-level absmax, or null without double quant. */
  public DynamicMap.Quantized quantizedAbsmax() {
    return quantizedAbsmax;
  }

  /** The mean subtracted from the absmax values before double quantization (0 without). */
  public float offset() {
    return offset;
  }

  /**
   * The absmax of every block as dequantization uses it: exact fp32 values, or {@code code8[q] *
   * absmax2 + offset} with double quantization.
   */
  public float[] absmax() {
    if (absmax != null) {
      return absmax.clone();
    }
    float[] a = quantizedAbsmax.dequantize();
    for (int i = 0; i < a.length; i++) {
      a[i] += offset;
    }
    return a;
  }

  /** The dequantized weight, flattened row-major: {@code code[index] * absmax[block]}. */
  public float[] dequantize() {
    return Nf4.dequantize(packed, absmax(), blockSize, size);
  }

  /**
   * Bytes this tensor needs when resident: packed indices plus its constants (fp32 absmax, or 8-bit
   * absmax, fp32 second-level absmax and the fp32 offset). The code tables are shared by all
   * tensors and counted once by {@link Nf4Tables#BYTES}.
   */
  public long bytes() {
    if (quantizedAbsmax == null) {
      return packed.length + 4L * absmax.length;
    }
    return packed.length
        + quantizedAbsmax.indices().length
        + 4L * quantizedAbsmax.absmax().length
        + 4L;
  }
}
