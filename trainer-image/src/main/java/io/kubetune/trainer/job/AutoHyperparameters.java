package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.Precision;
import io.kubetune.trainer.train.TrainingOptions;

/**
 * Resolves {@code auto} (null) hyperparameters from the dataset size and the model; the rules are
 * documented in docs/trainer.md ("Auto hyperparameters").
 */
public final class AutoHyperparameters {
  /** Longest sequence when neither the config nor the model says otherwise. */
  static final int MAX_AUTO_SEQ_LENGTH = 2048;

  /** Auto epochs never go below this. */
  static final int MIN_AUTO_EPOCHS = 3;

  /** Auto epochs never go above this. */
  static final int MAX_AUTO_EPOCHS = 10;

  /** Auto epochs grow (up to {@link #MAX_AUTO_EPOCHS}) until the run has this many steps. */
  static final int MIN_AUTO_STEPS = 50;

  /** Runs shorter than this get no warm-up: a warm-up step runs at learning rate 0. */
  static final int MIN_STEPS_FOR_WARMUP = 100;

  /** Warm-up fraction of longer runs. */
  static final double AUTO_WARMUP_RATIO = 0.03;

  /** Examples per micro-batch unless the dataset is smaller. */
  static final int AUTO_BATCH_SIZE = 4;

  /** Peak learning rate for LoRA, the common choice of PEFT examples. */
  static final double AUTO_LEARNING_RATE = 2e-4;

  private static final TrainerConfig.Hyperparameters NONE =
      new TrainerConfig.Hyperparameters(
          null, null, null, null, null, null, null, null, null, null, null, null, null);

  private AutoHyperparameters() {}

  private static TrainerConfig.Hyperparameters orNone(TrainerConfig.Hyperparameters h) {
    return h == null ? NONE : h;
  }

  /** The configured maxSeqLength, else the model's context length capped at 2048. */
  public static int maxSeqLength(TrainerConfig.Hyperparameters h, LlamaConfig model) {
    Integer configured = orNone(h).maxSeqLength();
    if (configured != null) {
      return configured;
    }
    int positions = model == null ? 0 : model.maxPositionEmbeddings();
    return positions > 0 ? Math.min(MAX_AUTO_SEQ_LENGTH, positions) : MAX_AUTO_SEQ_LENGTH;
  }

  /**
   * The training precision: as configured, or (auto) fp16 when the trainer's arrays live on a GPU
   * and fp32 on a CPU, where fp16 kernels are slow and fp32 costs no accuracy.
   */
  public static Precision precision(TrainerConfig.Hyperparameters h, NDManager manager) {
    try {
      return Precision.resolve(orNone(h).precision(), manager.getDevice().isGpu());
    } catch (IllegalArgumentException e) {
      throw new TrainerFailureException(FailureReason.CONFIG_INVALID, e.getMessage(), e);
    }
  }

  /** Whether to pack examples (auto: no). */
  public static boolean packing(TrainerConfig.Hyperparameters h) {
    return Boolean.TRUE.equals(orNone(h).packing());
  }

  /** The seed (auto: 42, as the Hugging Face Trainer). */
  public static long seed(TrainerConfig.Hyperparameters h) {
    Long seed = orNone(h).seed();
    return seed == null ? 42 : seed;
  }

  /**
   * Resolves every hyperparameter.
   *
   * @param hyperparameters the config's values, null meaning auto
   * @param trainSequences training sequences (after packing)
   * @param maxSeqLength the resolved {@link #maxSeqLength}
   * @param padTokenId the id that pads micro-batches
   * @throws TrainerFailureException {@code CONFIG_INVALID} when a value cannot be used
   */
  public static TrainingOptions resolve(
      TrainerConfig.Hyperparameters hyperparameters,
      int trainSequences,
      int maxSeqLength,
      int padTokenId) {
    TrainerConfig.Hyperparameters h = orNone(hyperparameters);
    try {
      int n = Math.max(1, trainSequences);
      int batchSize = h.batchSize() != null ? h.batchSize() : Math.min(AUTO_BATCH_SIZE, n);
      int accumulation = h.gradientAccumulationSteps() != null ? h.gradientAccumulationSteps() : 1;
      TrainingOptions.Builder b =
          TrainingOptions.builder()
              .optBatchSize(batchSize)
              .optGradientAccumulationSteps(accumulation)
              .optLearningRate(h.learningRate() != null ? h.learningRate() : AUTO_LEARNING_RATE)
              .optLrScheduler(
                  h.lrScheduler() != null
                      ? LrSchedule.Type.parse(h.lrScheduler())
                      : LrSchedule.Type.LINEAR)
              .optWeightDecay(h.weightDecay() != null ? h.weightDecay() : 0)
              .optMaxGradNorm(h.maxGradNorm() != null ? h.maxGradNorm() : 1.0)
              .optMaxSeqLength(maxSeqLength)
              .optSeed(seed(h))
              .optEvalEverySteps(h.evalEverySteps() != null ? h.evalEverySteps() : -1)
              .optPadTokenId(padTokenId);
      if (h.maxSteps() != null) {
        b.optMaxSteps(h.maxSteps());
      }
      if (h.epochs() != null) {
        b.optEpochs(h.epochs());
      } else {
        // Small datasets get more passes so that the adapter sees enough updates.
        long microBatches = (n + batchSize - 1) / batchSize;
        long stepsPerEpoch = Math.max(1, (microBatches + accumulation - 1) / accumulation);
        long epochs = (MIN_AUTO_STEPS + stepsPerEpoch - 1) / stepsPerEpoch;
        b.optEpochs(Math.max(MIN_AUTO_EPOCHS, Math.min(MAX_AUTO_EPOCHS, epochs)));
      }
      if (h.warmupRatio() != null) {
        b.optWarmupRatio(h.warmupRatio());
      } else {
        long total = b.build().totalSteps(n);
        b.optWarmupRatio(total >= MIN_STEPS_FOR_WARMUP ? AUTO_WARMUP_RATIO : 0);
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new TrainerFailureException(FailureReason.CONFIG_INVALID, e.getMessage(), e);
    }
  }
}
