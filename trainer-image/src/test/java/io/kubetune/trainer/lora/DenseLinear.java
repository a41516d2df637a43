package io.kubetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import io.kubetune.trainer.model.Linear;
import java.util.List;

/** A frozen dense projection for tests: {@code y = x W^T}. */
final class DenseLinear implements Linear {
  private final NDArray weight;

  DenseLinear(NDArray weight) {
    this.weight = weight;
  }

  NDArray weight() {
    return weight;
  }

  @Override
  public NDArray forward(NDArray x) {
    return ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow();
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
    return List.of();
  }
}
