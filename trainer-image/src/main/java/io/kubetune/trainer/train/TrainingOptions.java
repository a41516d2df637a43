package io.kubetune.trainer.train;

import io.kubetune.contract.TrainerConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resolved optimisation settings: every {@code auto} of the FineTuneJob replaced by a value.
 *
 * <p>Defaults follow the Hugging Face Trainer where it has one (AdamW betas 0.9/0.999, eps 1e-8,
 * weight decay 0, max grad norm 1.0, linear schedule, no warm-up, seed 42) and common LoRA practice
 * elsewhere (3 epochs, batch size 4, learning rate 2e-4).
 *
 * @param epochs passes over the training set (used when {@code maxSteps} is 0)
 * @param maxSteps optimizer steps; 0 means derive from {@code epochs}
 * @param batchSize examples per micro-batch
 * @param gradientAccumulationSteps micro-batches per optimizer step
 * @param learningRate peak learning rate
 * @param lrScheduler schedule shape
 * @param warmupRatio fraction of the optimizer steps spent warming up ({@code ceil})
 * @param weightDecay decoupled AdamW weight decay
 * @param maxGradNorm global gradient-norm clip; 0 disables clipping
 * @param maxSeqLength longest example in tokens (longer ones are truncated); 0 means no limit
 * @param seed seeds shuffling and dropout
 * @param evalEverySteps evaluate every N optimizer steps; 0 means only before and after training;
 *     -1 means auto (about ten evaluations per run)
 * @param shuffle shuffle the training set each epoch (off only to replay a fixed order)
 * @param padTokenId id used to pad micro-batches (masked out of attention and loss)
 * @param adamBeta1 AdamW beta1
 * @param adamBeta2 AdamW beta2
 * @param adamEpsilon AdamW epsilon
 * @param restoreBest end with the weights of the evaluation with the lowest validation loss
 */
public record TrainingOptions(
    double epochs,
    long maxSteps,
    int batchSize,
    int gradientAccumulationSteps,
    double learningRate,
    LrSchedule.Type lrScheduler,
    double warmupRatio,
    double weightDecay,
    double maxGradNorm,
    int maxSeqLength,
    long seed,
    int evalEverySteps,
    boolean shuffle,
    int padTokenId,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    boolean restoreBest) {

  /** Validates; every message names the field and a fix. */
  public TrainingOptions {
    require(epochs > 0 || maxSteps > 0, "epochs", epochs, "set epochs > 0 or maxSteps > 0");
    require(Double.isFinite(epochs) && epochs >= 0, "epochs", epochs, "use e.g. 3");
    require(maxSteps >= 0, "maxSteps", maxSteps, "use a positive number or leave it unset");
    require(batchSize >= 1, "batchSize", batchSize, "use e.g. 4");
    require(
        gradientAccumulationSteps >= 1,
        "gradientAccumulationSteps",
        gradientAccumulationSteps,
        "use 1 or more");
    require(
        learningRate > 0 && Double.isFinite(learningRate),
        "learningRate",
        learningRate,
        "use e.g. 2e-4 for LoRA");
    require(lrScheduler != null, "lrScheduler", null, "use linear, cosine or constant");
    require(warmupRatio >= 0 && warmupRatio < 1, "warmupRatio", warmupRatio, "use e.g. 0.03");
    require(
        weightDecay >= 0 && Double.isFinite(weightDecay), "weightDecay", weightDecay, "use 0-0.1");
    require(
        maxGradNorm >= 0 && Double.isFinite(maxGradNorm),
        "maxGradNorm",
        maxGradNorm,
        "use e.g. 1.0, or 0 to disable clipping");
    require(maxSeqLength >= 0, "maxSeqLength", maxSeqLength, "use e.g. 1024");
    require(
        evalEverySteps >= -1, "evalEverySteps", evalEverySteps, "use a positive number of steps");
  }

  private static void require(boolean ok, String field, Object got, String fix) {
    if (!ok) {
      throw new IllegalArgumentException(
          "hyperparameters." + field + " is invalid (got " + got + "); " + fix);
    }
  }

  /** Starts a builder holding the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Resolves the contract's hyperparameters, null meaning auto. */
  public static TrainingOptions fromContract(TrainerConfig.Hyperparameters h) {
    Builder b = builder();
    if (h == null) {
      return b.build();
    }
    if (h.epochs() != null) {
      b.optEpochs(h.epochs());
    }
    if (h.maxSteps() != null) {
      b.optMaxSteps(h.maxSteps());
    }
    if (h.batchSize() != null) {
      b.optBatchSize(h.batchSize());
    }
    if (h.gradientAccumulationSteps() != null) {
      b.optGradientAccumulationSteps(h.gradientAccumulationSteps());
    }
    if (h.learningRate() != null) {
      b.optLearningRate(h.learningRate());
    }
    if (h.lrScheduler() != null) {
      b.optLrScheduler(LrSchedule.Type.parse(h.lrScheduler()));
    }
    if (h.warmupRatio() != null) {
      b.optWarmupRatio(h.warmupRatio());
    }
    if (h.weightDecay() != null) {
      b.optWeightDecay(h.weightDecay());
    }
    if (h.maxGradNorm() != null) {
      b.optMaxGradNorm(h.maxGradNorm());
    }
    if (h.maxSeqLength() != null) {
      b.optMaxSeqLength(h.maxSeqLength());
    }
    if (h.seed() != null) {
      b.optSeed(h.seed());
    }
    if (h.evalEverySteps() != null) {
      b.optEvalEverySteps(h.evalEverySteps());
    }
    return b.build();
  }

  /** Micro-batches in one epoch of {@code examples} examples (the last one may be short). */
  public long microBatchesPerEpoch(int examples) {
    return (examples + batchSize - 1) / batchSize;
  }

  /**
   * Optimizer steps in one epoch: a short accumulation group at the end of an epoch still makes a
   * step, as in the Hugging Face Trainer.
   */
  public long stepsPerEpoch(int examples) {
    long micro = microBatchesPerEpoch(examples);
    return Math.max(1, (micro + gradientAccumulationSteps - 1) / gradientAccumulationSteps);
  }

  /** Optimizer steps of the whole run. */
  public long totalSteps(int examples) {
    if (maxSteps > 0) {
      return maxSteps;
    }
    return Math.max(1, (long) Math.ceil(epochs * stepsPerEpoch(examples)));
  }

  /** The evaluation interval actually used for a run of {@code totalSteps} steps. */
  public int resolvedEvalEverySteps(long totalSteps) {
    if (evalEverySteps >= 0) {
      return evalEverySteps;
    }
    return (int) Math.max(1, totalSteps / 10);
  }

  /** The values as a flat map (for the training report and progress documents). */
  public Map<String, Object> toMap(int trainExamples) {
    long total = totalSteps(trainExamples);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("epochs", epochs);
    m.put("maxSteps", maxSteps);
    m.put("totalSteps", total);
    m.put("batchSize", batchSize);
    m.put("gradientAccumulationSteps", gradientAccumulationSteps);
    m.put("learningRate", learningRate);
    m.put("lrScheduler", lrScheduler.name().toLowerCase(java.util.Locale.ROOT));
    m.put("warmupRatio", warmupRatio);
    m.put("warmupSteps", LrSchedule.warmupSteps(warmupRatio, total));
    m.put("weightDecay", weightDecay);
    m.put("maxGradNorm", maxGradNorm);
    m.put("maxSeqLength", maxSeqLength);
    m.put("seed", seed);
    m.put("evalEverySteps", resolvedEvalEverySteps(total));
    m.put("adamBeta1", adamBeta1);
    m.put("adamBeta2", adamBeta2);
    m.put("adamEpsilon", adamEpsilon);
    return m;
  }

  /** Builder with the defaults. */
  public static final class Builder {
    private double epochs = 3;
    private long maxSteps;
    private int batchSize = 4;
    private int gradientAccumulationSteps = 1;
    private double learningRate = 2e-4;
    private LrSchedule.Type lrScheduler = LrSchedule.Type.LINEAR;
    private double warmupRatio;
    private double weightDecay;
    private double maxGradNorm = 1.0;
    private int maxSeqLength = 2048;
    private long seed = 42;
    private int evalEverySteps = -1;
    private boolean shuffle = true;
    private int padTokenId;
    private double adamBeta1 = 0.9;
    private double adamBeta2 = 0.999;
    private double adamEpsilon = 1e-8;
    private boolean restoreBest = true;

    private Builder() {}

    /** Sets the number of epochs. */
    public Builder optEpochs(double epochs) {
      this.epochs = epochs;
      return this;
    }

    /** Sets a fixed number of optimizer steps (overrides epochs). */
    public Builder optMaxSteps(long maxSteps) {
      this.maxSteps = maxSteps;
      return this;
    }

    /** Sets examples per micro-batch. */
    public Builder optBatchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /** Sets micro-batches per optimizer step. */
    public Builder optGradientAccumulationSteps(int steps) {
      this.gradientAccumulationSteps = steps;
      return this;
    }

    /** Sets the peak learning rate. */
    public Builder optLearningRate(double learningRate) {
      this.learningRate = learningRate;
      return this;
    }

    /** Sets the schedule. */
    public Builder optLrScheduler(LrSchedule.Type lrScheduler) {
      this.lrScheduler = lrScheduler;
      return this;
    }

    /** Sets the warm-up fraction. */
    public Builder optWarmupRatio(double warmupRatio) {
      this.warmupRatio = warmupRatio;
      return this;
    }

    /** Sets the weight decay. */
    public Builder optWeightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** Sets the gradient-norm clip (0 disables). */
    public Builder optMaxGradNorm(double maxGradNorm) {
      this.maxGradNorm = maxGradNorm;
      return this;
    }

    /** Sets the truncation length (0: none). */
    public Builder optMaxSeqLength(int maxSeqLength) {
      this.maxSeqLength = maxSeqLength;
      return this;
    }

    /** Sets the seed. */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Sets the evaluation interval (0: only before and after; -1: auto). */
    public Builder optEvalEverySteps(int evalEverySteps) {
      this.evalEverySteps = evalEverySteps;
      return this;
    }

    /** Turns per-epoch shuffling on or off. */
    public Builder optShuffle(boolean shuffle) {
      this.shuffle = shuffle;
      return this;
    }

    /** Sets the padding id. */
    public Builder optPadTokenId(int padTokenId) {
      this.padTokenId = padTokenId;
      return this;
    }

    /** Sets AdamW's betas. */
    public Builder optAdamBetas(double beta1, double beta2) {
      this.adamBeta1 = beta1;
      this.adamBeta2 = beta2;
      return this;
    }

    /** Sets AdamW's epsilon. */
    public Builder optAdamEpsilon(double eps) {
      this.adamEpsilon = eps;
      return this;
    }

    /** Whether to end with the best evaluated weights. */
    public Builder optRestoreBest(boolean restoreBest) {
      this.restoreBest = restoreBest;
      return this;
    }

    /** Validates and builds. */
    public TrainingOptions build() {
      return new TrainingOptions(
          epochs,
          maxSteps,
          batchSize,
          gradientAccumulationSteps,
          learningRate,
          lrScheduler,
          warmupRatio,
          weightDecay,
          maxGradNorm,
          maxSeqLength,
          seed,
          evalEverySteps,
          shuffle,
          padTokenId,
          adamBeta1,
          adamBeta2,
          adamEpsilon,
          restoreBest);
    }
  }
}
