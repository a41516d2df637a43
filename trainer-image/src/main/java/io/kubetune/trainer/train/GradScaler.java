package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import io.kubetune.trainer.model.Scalars;
import java.util.List;

/**
 * Dynamic loss scaling for fp16 training, step for step {@code torch.amp.GradScaler}: the loss is
 * multiplied by {@link #scale()} before backward so that small fp16 gradients do not flush to zero;
 * the gradients are divided by it again before clipping; a step whose gradients hold an inf or a
 * NaN is skipped and the scale is multiplied by {@code backoffFactor}; after {@code growthInterval}
 * clean steps in a row the scale is multiplied by {@code growthFactor}.
 *
 * <pre>{@code
 * GradScaler scaler = GradScaler.builder().build();   // 65536, x2 every 2000 clean steps, x0.5
 * collector.backward(scaler.scale(loss));
 * if (scaler.unscale(params)) { skip } else { clip; optimizer.step(lr); }
 * scaler.update();
 * }</pre>
 */
public final class GradScaler {

  private final float growthFactor;
  private final float backoffFactor;
  private final int growthInterval;
  private float scale;
  private int growthTracker;
  private long skippedSteps;
  private boolean foundInf;
  private boolean unscaled;

  private GradScaler(Builder b) {
    this.scale = b.initScale;
    this.growthFactor = b.growthFactor;
    this.backoffFactor = b.backoffFactor;
    this.growthInterval = b.growthInterval;
  }

  /** Starts a builder with torch's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The current loss scale. */
  public float scale() {
    return scale;
  }

  /** Optimizer steps skipped so far because their gradients overflowed. */
  public long skippedSteps() {
    return skippedSteps;
  }

  /** {@code loss * scale}, safe under autograd; backward of it yields scaled gradients. */
  public NDArray scale(NDArray loss) {
    return Scalars.mul(loss, scale);
  }

  /**
   * Divides every gradient by the scale in place (as torch: multiplies by the fp32 reciprocal) and
   * reports whether any gradient holds an inf or a NaN; when it does, the caller must skip the
   * optimizer step and call {@link #update()}.
   *
   * @return true when the step must be skipped
   */
  public boolean unscale(List<NDArray> params) {
    float inv = (float) (1.0 / scale);
    boolean inf = false;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (NDArray p : params) {
        if (!p.hasGradient()) {
          continue;
        }
        NDArray g = p.getGradient();
        if (!inf && g.isInfinite().logicalOr(g.isNaN()).any().getBoolean()) {
          inf = true;
        }
        g.muli(inv);
      }
    }
    foundInf = inf;
    unscaled = true;
    return inf;
  }

  /**
   * Adjusts the scale after a step: halves it (backoff) when the gradients overflowed, otherwise
   * grows it after {@code growthInterval} clean steps in a row.
   *
   * @throws IllegalStateException when {@link #unscale} was not called for this step
   */
  public void update() {
    if (!unscaled) {
      throw new IllegalStateException("GradScaler.update() without unscale() for this step");
    }
    unscaled = false;
    if (foundInf) {
      scale *= backoffFactor;
      growthTracker = 0;
      skippedSteps++;
      return;
    }
    int successful = growthTracker + 1;
    if (successful == growthInterval) {
      float grown = scale * growthFactor;
      if (Float.isFinite(grown)) {
        scale = grown;
      }
      growthTracker = 0;
    } else {
      growthTracker = successful;
    }
  }

  /** What a checkpoint stores so that a resumed run scales and skips as an uninterrupted one. */
  public State state() {
    return new State(scale, growthTracker, skippedSteps);
  }

  /** Restores the state of a checkpoint. */
  public void restore(State state) {
    this.scale = state.scale();
    this.growthTracker = state.growthTracker();
    this.skippedSteps = state.skippedSteps();
    this.unscaled = false;
  }

  /**
   * The scaler's state.
   *
   * @param scale current loss scale
   * @param growthTracker clean steps in a row since the last growth or backoff
   * @param skippedSteps optimizer steps skipped so far
   */
  public record State(float scale, int growthTracker, long skippedSteps) {

    /** Checks the values. */
    public State {
      if (!(scale > 0) || !Float.isFinite(scale) || growthTracker < 0 || skippedSteps < 0) {
        throw new IllegalArgumentException(
            "invalid loss-scaler state (scale "
                + scale
                + ", growthTracker "
                + growthTracker
                + ", skippedSteps "
                + skippedSteps
                + ")");
      }
    }
  }

  /** Builder: {@code GradScaler.builder().optInitScale(65536).optGrowthInterval(2000).build()}. */
  public static final class Builder {
    private float initScale = 65536f;
    private float growthFactor = 2f;
    private float backoffFactor = 0.5f;
    private int growthInterval = 2000;

    private Builder() {}

    /** Sets the first loss scale (torch: 2^16). */
    public Builder optInitScale(float initScale) {
      this.initScale = initScale;
      return this;
    }

    /** Sets the factor applied after {@code growthInterval} clean steps (torch: 2). */
    public Builder optGrowthFactor(float growthFactor) {
      this.growthFactor = growthFactor;
      return this;
    }

    /** Sets the factor applied after an overflow (torch: 0.5). */
    public Builder optBackoffFactor(float backoffFactor) {
      this.backoffFactor = backoffFactor;
      return this;
    }

    /** Sets how many clean steps in a row grow the scale (torch: 2000). */
    public Builder optGrowthInterval(int growthInterval) {
      this.growthInterval = growthInterval;
      return this;
    }

    /** Builds the scaler. */
    public GradScaler build() {
      if (!(initScale > 0) || !Float.isFinite(initScale)) {
        throw new IllegalArgumentException("loss scale must be a positive number");
      }
      if (!(growthFactor > 1) || !(backoffFactor > 0 && backoffFactor < 1)) {
        throw new IllegalArgumentException("growth factor must be > 1 and backoff in (0, 1)");
      }
      if (growthInterval < 1) {
        throw new IllegalArgumentException("growth interval must be 1 or more");
      }
      return new GradScaler(this);
    }
  }
}
