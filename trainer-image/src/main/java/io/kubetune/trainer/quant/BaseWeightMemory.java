package io.kubetune.trainer.quant;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resident memory of a model's frozen base weights after QLoRA, next to what fp32 would take.
 *
 * <p>Figures are measured from the arrays the model actually holds (sizes times element width), not
 * derived from the configuration; LoRA weights and optimizer state are not base weights.
 *
 * @param quantizedParameters scalars stored as NF4
 * @param quantizedBytes packed NF4 indices, their constants and the shared code tables
 * @param denseParameters scalars still held densely (embeddings, norms, lm_head, biases, and
 *     projections outside the quantization scope)
 * @param denseBytes bytes of those dense arrays
 */
public record BaseWeightMemory(
    long quantizedParameters, long quantizedBytes, long denseParameters, long denseBytes) {

  /** All resident bytes of base weights. */
  public long totalBytes() {
    return quantizedBytes + denseBytes;
  }

  /** What the same base weights take in fp32. */
  public long fp32Bytes() {
    return 4 * (quantizedParameters + denseParameters);
  }

  /** Bytes per quantized parameter, constants and tables included (0.5 would be bare 4 bits). */
  public double bytesPerQuantizedParameter() {
    return quantizedParameters == 0 ? 0 : (double) quantizedBytes / quantizedParameters;
  }

  /** Quantized weights' bytes over their fp32 size; QLoRA's target is at most 0.16. */
  public double quantizedRatio() {
    return quantizedParameters == 0 ? 1 : (double) quantizedBytes / (4.0 * quantizedParameters);
  }

  /** All base bytes over fp32 (dense embeddings and norms included). */
  public double totalRatio() {
    long fp32 = fp32Bytes();
    return fp32 == 0 ? 1 : (double) totalBytes() / fp32;
  }

  /**
   * The figures as an ordered JSON-ready map for {@code training_report.json} (a {@code
   * baseWeightMemory} section): the four measurements plus total, fp32 equivalent and ratios.
   */
  public Map<String, Object> toReport() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("quantizedParameters", quantizedParameters);
    m.put("quantizedBytes", quantizedBytes);
    m.put("denseParameters", denseParameters);
    m.put("denseBytes", denseBytes);
    m.put("totalBytes", totalBytes());
    m.put("fp32Bytes", fp32Bytes());
    m.put("bytesPerQuantizedParameter", bytesPerQuantizedParameter());
    m.put("quantizedRatio", quantizedRatio());
    m.put("totalRatio", totalRatio());
    return m;
  }
}
