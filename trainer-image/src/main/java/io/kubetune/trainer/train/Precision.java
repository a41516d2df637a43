package io.kubetune.trainer.train;

import java.util.Locale;

/**
 * Numeric precision of a training run ({@code hyperparameters.precision}).
 *
 * <p>{@link #FP16} is mixed precision: frozen base weights are held in fp16, matrix products run in
 * fp16, RMSNorm statistics, softmax and the loss stay in fp32, trainable weights keep fp32 master
 * copies that AdamW updates in fp32, and a {@link GradScaler} scales the loss. bf16 is absent on
 * purpose: DJL's PyTorch JNI aborts the JVM on bf16 tensors.
 */
public enum Precision {
  /** Everything in fp32: the reference numerics. */
  FP32,
  /** fp16 compute with fp32 master weights and dynamic loss scaling. */
  FP16;

  /**
   * Resolves a configured value: {@code auto} (or null) is fp16 on a GPU and fp32 on a CPU, where
   * fp16 kernels are slow.
   *
   * @throws IllegalArgumentException for anything but auto, fp32 or fp16
   */
  public static Precision resolve(String configured, boolean gpu) {
    if (configured == null || configured.equals("auto")) {
      return gpu ? FP16 : FP32;
    }
    return switch (configured) {
      case "fp32" -> FP32;
      case "fp16" -> FP16;
      default ->
          throw new IllegalArgumentException(
              "hyperparameters.precision: '"
                  + configured
                  + "' is not allowed; use auto, fp32 or fp16");
    };
  }

  /** The configuration word, as reported in the resolved hyperparameters. */
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }
}
