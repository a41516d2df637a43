package io.kubetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import io.kubetune.trainer.model.Casts;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.Scalars;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A frozen linear projection plus a trainable low-rank update, as PEFT's {@code lora.Linear}:
 * {@code y = base(x) + scale * (dropout(x) A^T) B^T} with {@code A [r, in]} and {@code B [out, r]}.
 *
 * <p>{@code A} starts Kaiming-uniform as {@code nn.init.kaiming_uniform_(a=sqrt(5))}, i.e. uniform
 * in {@code [-1/sqrt(in), 1/sqrt(in))}, and {@code B} starts at zero so the wrapped model is
 * exactly the base model before training. Only {@code A} and {@code B} require gradients; the base
 * is never touched.
 */
public final class LoraLinear implements Linear {

  private final Linear base;
  private final NDArray loraA;
  private final NDArray loraB;
  private final float scale;
  private final float dropout;
  private boolean training;

  private LoraLinear(Builder b) {
    this.base = b.base;
    this.scale = (float) b.scale;
    this.dropout = (float) b.dropout;
    int in = base.inFeatures();
    int out = base.outFeatures();
    float[] a = new float[b.rank * in];
    // PEFT: kaiming_uniform_(a=sqrt(5)) gives gain sqrt(2/6) and bound gain*sqrt(3/in) =
    // 1/sqrt(in).
    double bound = 1.0 / Math.sqrt(in);
    SplittableRandom random = new SplittableRandom(b.seed);
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (-bound + 2 * bound * random.nextDouble());
    }
    this.loraA = b.manager.create(a, new Shape(b.rank, in));
    this.loraB = b.manager.zeros(new Shape(out, b.rank), DataType.FLOAT32);
    // The adapter outlives any step scope the caller may be inside.
    NDScope.unregister(loraA, loraB);
    loraA.setRequiresGradient(true);
    loraB.setRequiresGradient(true);
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public NDArray forward(NDArray x) {
    NDArray result = base.forward(x);
    boolean drop = training && dropout > 0;
    NDArray in = drop ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
    // Under fp16 the fp32 masters are cast per forward; the casts pass gradients back to them.
    NDArray a = Casts.to(loraA, x.getDataType(), x.getManager());
    NDArray b = Casts.to(loraB, x.getDataType(), x.getManager());
    NDArray down = ai.djl.nn.core.Linear.linear(in, a).singletonOrThrow();
    // Scaling the rank-r activation [.., r] instead of the output [.., out] (PEFT scales the
    // latter) is the same product, with the multiplication and its backward r / out as large.
    NDArray up = ai.djl.nn.core.Linear.linear(Scalars.mul(down, scale), b).singletonOrThrow();
    NDArray out = result.add(up);
    // Free the output-sized temporaries now rather than at the end of the step scope, as Python's
    // reference counting would. Only arrays that autograd does not save may be closed here:
    // closing a saved one (the dropout output, the rank-r activations) corrupts the backward pass.
    up.close();
    result.close();
    return out;
  }

  @Override
  public int inFeatures() {
    return base.inFeatures();
  }

  @Override
  public int outFeatures() {
    return base.outFeatures();
  }

  @Override
  public List<NDArray> trainableParameters() {
    return List.of(loraA, loraB);
  }

  /** The wrapped frozen projection. */
  public Linear base() {
    return base;
  }

  /** The down projection {@code A [r, in]}. */
  public NDArray loraA() {
    return loraA;
  }

  /** The up projection {@code B [out, r]}. */
  public NDArray loraB() {
    return loraB;
  }

  /** The rank {@code r}. */
  public int rank() {
    return (int) loraA.getShape().get(0);
  }

  /** The factor the update is multiplied by. */
  public float scale() {
    return scale;
  }

  /** Turns dropout on (training) or off (evaluation and generation). */
  public void setTraining(boolean training) {
    this.training = training;
  }

  /** Whether dropout is active. */
  public boolean isTraining() {
    return training;
  }

  /** Builder: {@code LoraLinear.builder().setBase(q).setManager(m).setRank(8).build()}. */
  public static final class Builder {
    private Linear base;
    private NDManager manager;
    private int rank = 8;
    private double scale = 1.0;
    private double dropout;
    private long seed;

    private Builder() {}

    /** Sets the frozen projection to adapt. */
    public Builder setBase(Linear base) {
      this.base = base;
      return this;
    }

    /** Sets the manager that owns the LoRA weights (not a per-step scope). */
    public Builder setManager(NDManager manager) {
      this.manager = manager;
      return this;
    }

    /** Sets the rank. */
    public Builder setRank(int rank) {
      this.rank = rank;
      return this;
    }

    /** Sets the scale ({@link LoraConfig#scale()}). */
    public Builder optScale(double scale) {
      this.scale = scale;
      return this;
    }

    /** Sets the dropout probability on the LoRA input. */
    public Builder optDropout(double dropout) {
      this.dropout = dropout;
      return this;
    }

    /** Sets the seed of the initialisation of {@code A}. */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Builds the adapter. */
    public LoraLinear build() {
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(manager, "manager");
      if (rank < 1) {
        throw new IllegalArgumentException("LoRA rank must be at least 1 (got " + rank + ")");
      }
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("LoRA dropout must be in [0, 1) (got " + dropout + ")");
      }
      return new LoraLinear(this);
    }
  }
}
