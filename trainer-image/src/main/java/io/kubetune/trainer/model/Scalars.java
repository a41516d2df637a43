package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a constant whose storage PyTorch owns.
 *
 * <p>DJL's {@code mul(Number)} and {@code div(Number)} wrap the constant in a tensor over a Java
 * direct buffer ({@code from_blob}) and close that tensor at once. Autograd keeps the constant for
 * backward, so a garbage collection between forward and backward frees memory PyTorch still reads:
 * gradients become NaN or Inf depending on GC timing. {@code NDManager.full} allocates in PyTorch,
 * whose reference counting keeps the constant alive for as long as autograd needs it. Use these
 * helpers for every constant operand on a path that gradients flow through.
 */
public final class Scalars {

  private Scalars() {}

  /** {@code x * c}, safe under autograd. */
  public static NDArray mul(NDArray x, float c) {
    return x.mul(constant(x, c));
  }

  /** {@code x / c}, safe under autograd. */
  public static NDArray div(NDArray x, float c) {
    return x.div(constant(x, c));
  }

  /** {@code 1 / x}, safe under autograd. */
  public static NDArray reciprocal(NDArray x) {
    return constant(x, 1f).div(x);
  }

  private static NDArray constant(NDArray like, float c) {
    return like.getManager().full(new Shape(), c, like.getDataType());
  }
}
