package io.kubetune.trainer.safetensors;

import java.util.Locale;

/** Element types of a safetensors file that this reader understands. */
public enum DType {
  /** IEEE 754 single precision. */
  F32(4),
  /** IEEE 754 half precision. */
  F16(2),
  /** Brain float 16: the upper half of an f32. */
  BF16(2),
  /** Double precision; read only. */
  F64(8),
  /** Signed 64-bit integers. */
  I64(8),
  /** Signed 32-bit integers. */
  I32(4),
  /** Signed 16-bit integers. */
  I16(2),
  /** Signed bytes. */
  I8(1),
  /** Unsigned bytes. */
  U8(1),
  /** Booleans, one byte each. */
  BOOL(1);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** Whether values can be widened to f32 by {@link SafetensorsFile#readFloats}. */
  public boolean isFloatingPoint() {
    return this == F32 || this == F16 || this == BF16 || this == F64;
  }

  /**
   * Parses the dtype string of a safetensors header.
   *
   * @return the dtype, or {@code null} when this reader does not know it
   */
  static DType parse(String text) {
    try {
      return valueOf(text.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
