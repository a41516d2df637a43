package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW with decoupled weight decay, step for step the update of {@code torch.optim.AdamW} (amsgrad
 * off, maximize off):
 *
 * <pre>
 * p  = p * (1 - lr * wd)
 * m  = lerp(m, g, 1 - beta1)            v = beta2 * v + (1 - beta2) * g * g
 * p  = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * <p>DJL's {@code GradientCollector} accumulates gradients across backward passes (which is what
 * gradient accumulation needs), so {@link #zeroGrad()} must be called after each {@link #step}. The
 * moment estimates live in the manager given at construction, outside any per-step scope.
 */
public final class AdamW {

  private final List<NDArray> params;
  private final List<NDArray> expAvg = new ArrayList<>();
  private final List<NDArray> expAvgSq = new ArrayList<>();
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private long steps;

  private AdamW(Builder b) {
    this.params = List.copyOf(b.params);
    this.beta1 = b.beta1;
    this.beta2 = b.beta2;
    this.eps = b.eps;
    this.weightDecay = b.weightDecay;
    for (NDArray p : params) {
      NDArray m = b.manager.zeros(p.getShape(), p.getDataType());
      NDArray v = b.manager.zeros(p.getShape(), p.getDataType());
      NDScope.unregister(m, v);
      expAvg.add(m);
      expAvgSq.add(v);
    }
  }

  /** Starts a builder with torch's defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01). */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Applies one update with learning rate {@code lr} to every parameter that has a gradient.
   *
   * @param lr the learning rate of this step (after the schedule)
   */
  public void step(double lr) {
    steps++;
    double bias1 = 1 - Math.pow(beta1, steps);
    double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, steps));
    double stepSize = lr / bias1;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      // The constants as 0-dim tensors made once per step, not once per parameter and operation
      // (DJL's muli(Number) creates and frees a tensor each time): the same double-valued operands,
      // a seventh of the native calls for them. The step scope frees them.
      NDManager sm = null;
      NDArray decay = null;
      NDArray oneMinusBeta1 = null;
      NDArray beta2Array = null;
      NDArray oneMinusBeta2 = null;
      NDArray bias2 = null;
      NDArray epsArray = null;
      NDArray stepArray = null;
      for (int i = 0; i < params.size(); i++) {
        NDArray p = params.get(i);
        NDArray g = p.getGradient();
        NDArray m = expAvg.get(i);
        NDArray v = expAvgSq.get(i);
        if (sm == null) {
          sm = m.getManager();
          decay = sm.create(1 - lr * weightDecay);
          oneMinusBeta1 = sm.create(1 - beta1);
          beta2Array = sm.create(beta2);
          oneMinusBeta2 = sm.create(1 - beta2);
          bias2 = sm.create(bias2Sqrt);
          epsArray = sm.create(eps);
          stepArray = sm.create(stepSize);
        }
        if (weightDecay != 0) {
          p.muli(decay);
        }
        // torch uses lerp for the first moment: m + (1 - beta1) * (g - m).
        m.addi(g.sub(m).muli(oneMinusBeta1));
        v.muli(beta2Array).addi(g.square().muli(oneMinusBeta2));
        NDArray denom = v.sqrt().divi(bias2).addi(epsArray);
        p.subi(m.div(denom).muli(stepArray));
      }
    }
  }

  /** Resets every gradient to zero; call after {@link #step} (or to discard gradients). */
  public void zeroGrad() {
    for (NDArray p : params) {
      if (p.hasGradient()) {
        // In place in native code. NDArray.set(...) must not be used on a gradient: DJL then makes
        // the tensor share the memory of a direct buffer that only the (short-lived) gradient
        // wrapper keeps alive, and the gradient is freed under the tensor at the next GC.
        JniUtils.zeroGrad((PtNDArray) p);
      }
    }
  }

  /** Optimizer steps taken so far ({@code t} in the bias correction). */
  public long steps() {
    return steps;
  }

  /** The first-moment estimates, in parameter order (for checkpoints). */
  public List<NDArray> expAvg() {
    return List.copyOf(expAvg);
  }

  /** The second-moment estimates, in parameter order (for checkpoints). */
  public List<NDArray> expAvgSq() {
    return List.copyOf(expAvgSq);
  }

  /** Restores the step count after loading moment estimates from a checkpoint. */
  public void restoreSteps(long steps) {
    this.steps = steps;
  }

  /** Builder: {@code AdamW.builder().setParameters(ps).setManager(m).optWeightDecay(0).build()}. */
  public static final class Builder {
    private List<NDArray> params;
    private NDManager manager;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay = 0.01;

    private Builder() {}

    /** Sets the arrays to optimise; each must require gradients. */
    public Builder setParameters(List<NDArray> params) {
      this.params = params;
      return this;
    }

    /** Sets the manager that holds the optimizer state for the whole run. */
    public Builder setManager(NDManager manager) {
      this.manager = manager;
      return this;
    }

    /** Sets beta1 and beta2. */
    public Builder optBetas(double beta1, double beta2) {
      this.beta1 = beta1;
      this.beta2 = beta2;
      return this;
    }

    /** Sets epsilon (added after the square root, as torch does). */
    public Builder optEps(double eps) {
      this.eps = eps;
      return this;
    }

    /** Sets the decoupled weight decay. */
    public Builder optWeightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** Builds the optimizer. */
    public AdamW build() {
      if (params == null || manager == null) {
        throw new IllegalArgumentException("AdamW needs parameters and a manager");
      }
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("AdamW betas must be in [0, 1)");
      }
      if (!(eps >= 0) || !(weightDecay >= 0)) {
        throw new IllegalArgumentException(
            "hyperparameters.weightDecay must be >= 0 (got " + weightDecay + ")");
      }
      return new AdamW(this);
    }
  }
}
