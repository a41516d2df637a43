package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A frozen projection {@code y = x W^T + b} over base weights owned by the model's manager.
 *
 * <p>The weight never requires gradients here; full fine-tuning marks it trainable explicitly.
 */
public final class DenseLinear implements Linear {

  private NDArray weight;
  private NDArray bias;

  /**
   * Creates a projection.
   *
   * @param weight {@code [out, in]}
   * @param bias {@code [out]} or null
   */
  public DenseLinear(NDArray weight, NDArray bias) {
    if (weight.getShape().dimension() != 2) {
      throw new IllegalArgumentException("weight must be [out, in], got " + weight.getShape());
    }
    if (bias != null && bias.getShape().size() != weight.getShape().get(0)) {
      throw new IllegalArgumentException(
          "bias " + bias.getShape() + " does not match weight " + weight.getShape());
    }
    this.weight = weight;
    this.bias = bias;
  }

  /** The weight {@code [out, in]}; shared, do not close. */
  public NDArray weight() {
    return weight;
  }

  /** The bias {@code [out]}, or null. */
  public NDArray bias() {
    return bias;
  }

  /** Replaces the weight (same shape); the caller owns the old one. */
  void setWeight(NDArray newWeight) {
    if (!newWeight.getShape().equals(weight.getShape())) {
      throw new IllegalArgumentException(
          "new weight " + newWeight.getShape() + " does not match " + weight.getShape());
    }
    this.weight = newWeight;
  }

  /** Replaces the bias (same shape); the caller owns the old one. */
  void setBias(NDArray newBias) {
    this.bias = newBias;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The result is attached to {@code x}'s manager, never to the weight's.
   */
  @Override
  public NDArray forward(NDArray x) {
    // The input's type is the compute type: an fp32 master weight is cast (with its gradient) for
    // fp16 compute; a frozen weight already held in fp16 is used as is.
    NDArray w = Casts.to(weight, x.getDataType(), x.getManager());
    NDArray b = bias == null ? null : Casts.to(bias, x.getDataType(), x.getManager());
    return ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow();
  }

  @Override
  public int inFeatures() {
    return (int) weight.getShape().get(1);
  }

  @Override
  public int outFeatures() {
    return (int) weight.getShape().get(0);
  }

  @Override
  public List<NDArray> trainableParameters() {
    return weight.hasGradient() ? List.of(weight) : List.of();
  }
}
