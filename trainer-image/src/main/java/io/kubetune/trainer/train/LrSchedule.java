package io.kubetune.trainer.train;

import java.util.Locale;

/**
 * Learning-rate multipliers with the formulas of transformers' {@code
 * get_linear_schedule_with_warmup}, {@code get_cosine_schedule_with_warmup} (half a cycle), {@code
 * get_constant_schedule} and {@code get_constant_schedule_with_warmup}.
 *
 * <p>Step semantics are the Hugging Face Trainer's: optimizer step {@code k} (0-based) uses {@code
 * lr * multiplier(k)} and the scheduler advances after it, so with warm-up the first step runs at
 * learning rate 0 exactly as in transformers.
 */
public final class LrSchedule {

  /** The supported shapes. */
  public enum Type {
    /** Linear warm-up, then linear decay to 0 at the last step. */
    LINEAR,
    /** Linear warm-up, then half a cosine down to 0. */
    COSINE,
    /** Constant; like transformers' {@code constant} it ignores warm-up. */
    CONSTANT,
    /** Linear warm-up, then constant. */
    CONSTANT_WITH_WARMUP;

    /** Parses {@code linear}, {@code cosine}, {@code constant} or {@code constant_with_warmup}. */
    public static Type parse(String name) {
      if (name == null) {
        return LINEAR;
      }
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "hyperparameters.lrScheduler: unknown schedule '"
                + name
                + "'; use linear, cosine, constant or constant_with_warmup",
            e);
      }
    }
  }

  private final Type type;
  private final long warmupSteps;
  private final long totalSteps;

  /**
   * Creates a schedule.
   *
   * @param type the shape
   * @param warmupSteps optimizer steps of linear warm-up
   * @param totalSteps optimizer steps of the whole run
   */
  public LrSchedule(Type type, long warmupSteps, long totalSteps) {
    this.type = type;
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
  }

  /** Warm-up steps as the Hugging Face Trainer derives them: {@code ceil(total * ratio)}. */
  public static long warmupSteps(double warmupRatio, long totalSteps) {
    return (long) Math.ceil(totalSteps * warmupRatio);
  }

  /** The multiplier of the base learning rate at 0-based optimizer step {@code step}. */
  public double multiplier(long step) {
    switch (type) {
      case CONSTANT:
        return 1.0;
      case CONSTANT_WITH_WARMUP:
        return step < warmupSteps ? (double) step / Math.max(1.0, warmupSteps) : 1.0;
      case LINEAR:
        if (step < warmupSteps) {
          return (double) step / Math.max(1, warmupSteps);
        }
        return Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
      case COSINE:
        if (step < warmupSteps) {
          return (double) step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
      default:
        throw new IllegalStateException(type.name());
    }
  }

  /** The shape. */
  public Type type() {
    return type;
  }

  /** Warm-up steps. */
  public long warmupSteps() {
    return warmupSteps;
  }

  /** Total steps. */
  public long totalSteps() {
    return totalSteps;
  }
}
