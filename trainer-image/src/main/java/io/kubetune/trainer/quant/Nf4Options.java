package io.kubetune.trainer.quant;

import io.kubetune.contract.TrainerConfig;

/**
 * How QLoRA quantizes the frozen base: NF4 block size, double quantization of the absmax constants
 * and which projections are quantized.
 *
 * @param blockSize elements per NF4 absmax block (bitsandbytes: 64)
 * @param doubleQuant whether the absmax constants are themselves quantized to 8 bits
 * @param doubleQuantBlockSize absmax values per second-level block (bitsandbytes: 256)
 * @param scope which projections are stored in NF4
 */
public record Nf4Options(
    int blockSize, boolean doubleQuant, int doubleQuantBlockSize, Scope scope) {

  /** Which projections are quantized. */
  public enum Scope {
    /**
     * Every linear projection except {@code lm_head}, as transformers' {@code BitsAndBytesConfig}
     * does whatever LoRA targets.
     */
    ALL_LINEAR,
    /** Only the projections LoRA adapts; the others stay fp32. */
    LORA_TARGETS
  }

  /** Validates; messages name the field and the fix. */
  public Nf4Options {
    if (!powerOfTwoBetween(blockSize, 16, 4096)) {
      throw new IllegalArgumentException(
          "quantization block size must be a power of two in [16, 4096] (got "
              + blockSize
              + "); bitsandbytes' NF4 uses 64");
    }
    if (!powerOfTwoBetween(doubleQuantBlockSize, 16, 4096)) {
      throw new IllegalArgumentException(
          "double-quantization block size must be a power of two in [16, 4096] (got "
              + doubleQuantBlockSize
              + "); bitsandbytes uses 256");
    }
    if (scope == null) {
      scope = Scope.ALL_LINEAR;
    }
  }

  private static boolean powerOfTwoBetween(int v, int lo, int hi) {
    return v >= lo && v <= hi && Integer.bitCount(v) == 1;
  }

  /** QLoRA's recipe: NF4, block 64, double quantization (block 256), all linears but lm_head. */
  public static Nf4Options defaults() {
    return new Nf4Options(
        Nf4.DEFAULT_BLOCK_SIZE, true, DynamicMap.DEFAULT_BLOCK_SIZE, Scope.ALL_LINEAR);
  }

  /** The same options with double quantization on or off. */
  public Nf4Options withDoubleQuant(boolean on) {
    return new Nf4Options(blockSize, on, doubleQuantBlockSize, scope);
  }

  /** The same options with another scope. */
  public Nf4Options withScope(Scope newScope) {
    return new Nf4Options(blockSize, doubleQuant, doubleQuantBlockSize, newScope);
  }

  /**
   * Reads {@code method.quantization} and {@code method.doubleQuant} of the trainer contract; null
   * means QLoRA's defaults (nf4, double quantization on).
   *
   * @throws IllegalArgumentException for a quantization type other than nf4
   */
  public static Nf4Options fromContract(TrainerConfig.Method method) {
    Nf4Options o = defaults();
    if (method == null) {
      return o;
    }
    String type = method.quantization();
    if (type != null && !type.equalsIgnoreCase("nf4")) {
      throw new IllegalArgumentException(
          "method.quantization: '"
              + type
              + "' is not supported; use nf4 (4-bit NormalFloat, the QLoRA data type)");
    }
    if (method.doubleQuant() != null) {
      o = o.withDoubleQuant(method.doubleQuant());
    }
    return o;
  }
}
