package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Dtype casts that gradients flow through, for mixed precision.
 *
 * <p>DJL's {@code NDArray.toType} runs under a no-grad guard in the PyTorch JNI, so a cast array is
 * cut off from autograd: an fp16 copy of an fp32 master weight made with it never gives the master
 * a gradient. Writing the source into a fresh array of the target type ({@code index_put_}) is
 * recorded by autograd, whose backward casts the gradient back to the source's type, exactly as
 * {@code tensor.to(dtype)} does in PyTorch.
 */
public final class Casts {

  private static final NDIndex ALL = new NDIndex("...");

  private Casts() {}

  /**
   * {@code x} as {@code type}, in {@code x}'s manager; {@code x} itself when it already is.
   * Differentiable when {@code x} takes part in autograd.
   */
  public static NDArray to(NDArray x, DataType type) {
    return to(x, type, x.getManager());
  }

  /**
   * {@code x} as {@code type}, created in {@code manager} (e.g. the activation's, so that a cast
   * weight is freed with the step); {@code x} itself when it already is.
   */
  public static NDArray to(NDArray x, DataType type, NDManager manager) {
    if (x.getDataType() == type) {
      return x;
    }
    if (!inAutograd(x)) {
      NDArray cast = x.toType(type, false);
      if (cast.getManager() != manager) {
        cast.attach(manager);
      }
      return cast;
    }
    // The target must share the source's manager: DJL copies a value from another manager through
    // a Java buffer before writing it, which would cut the autograd link.
    NDArray out = x.getManager().zeros(x.getShape(), type);
    out.set(ALL, x);
    if (manager != x.getManager()) {
      out.attach(manager);
    }
    return out;
  }

  /**
   * Whether the cast must carry gradients. DJL's {@code hasGradient()} is false for results
   * computed from trainable arrays, and asking a tensor without a gradient function for its name
   * aborts the JVM, so every cast made while gradients are recorded is a differentiable one.
   */
  private static boolean inAutograd(NDArray x) {
    return x.hasGradient() || JniUtils.isGradMode();
  }
}
