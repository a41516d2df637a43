package io.kubetune.trainer.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

/**
 * The code tables every {@link Nf4Linear} of a model shares, as NDArrays on the engine side.
 *
 * <p>{@code pairs} maps a packed byte to its two code values ({@code [256, 2]}, high nibble first),
 * so dequantization is one gather per weight instead of unpacking nibbles; {@code dynamic} is the
 * 8-bit map of the double-quantized absmax ({@code [256, 1]}).
 */
public final class Nf4Tables {

  /** Resident bytes of the tables: {@code 256 * 2} plus {@code 256} fp32 values. */
  public static final long BYTES = (256L * 2 + 256) * Float.BYTES;

  private final NDArray pairs;
  private final NDArray dynamic;

  private Nf4Tables(NDArray pairs, NDArray dynamic) {
    this.pairs = pairs;
    this.dynamic = dynamic;
  }

  /** Creates the tables in a long-lived manager (the model's). */
  public static Nf4Tables create(NDManager manager) {
    float[] lut = new float[512];
    for (int b = 0; b < 256; b++) {
      lut[2 * b] = Nf4.value(b >>> 4);
      lut[2 * b + 1] = Nf4.value(b & 0x0f);
    }
    NDArray pairs = manager.create(lut, new Shape(256, 2));
    NDArray dynamic = manager.create(DynamicMap.code(), new Shape(256, 1));
    // The tables live as long as the model, even when built inside a caller's scope.
    NDScope.unregister(pairs, dynamic);
    return new Nf4Tables(pairs, dynamic);
  }

  NDArray pairs() {
    return pairs;
  }

  NDArray dynamic() {
    return dynamic;
  }
}
