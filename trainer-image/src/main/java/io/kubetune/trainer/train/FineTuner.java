package io.kubetune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.model.Scalars;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The fine-tuning loop: {@code TrainingResult result = FineTuner.run(job);}.
 *
 * <p>Semantics follow the Hugging Face Trainer so that numbers agree with transformers + PEFT:
 *
 * <ul>
 *   <li>An epoch is {@code ceil(examples / batchSize)} micro-batches; {@code
 *       gradientAccumulationSteps} of them make an optimizer step, and a short group at the end of
 *       an epoch still makes one.
 *   <li>Gradient accumulation normalises by tokens, not by micro-batches: each micro-batch
 *       contributes {@code sum(nll over its label tokens) / N}, where {@code N} is the number of
 *       label tokens in the whole optimizer step (transformers' {@code num_items_in_batch}). The
 *       accumulated gradient is therefore exactly the gradient of the mean cross-entropy over all
 *       label tokens of the step, the same as one big batch. The reported training loss of a step
 *       is that mean.
 *   <li>Step {@code k} (0-based) clips gradients to {@code maxGradNorm}, then runs AdamW with
 *       {@code learningRate * schedule(k)}.
 *   <li>Every optimizer step runs inside an {@link NDScope}; optimizer state and the trainable
 *       weights live outside it, so memory stays flat over a long run.
 * </ul>
 */
public final class FineTuner {

  private final TrainingJob job;
  private final TrainingOptions opts;
  private final List<NDArray> params;
  private final GradScaler scaler;
  private final List<EvalRecord> evals = new ArrayList<>();
  private final List<StepRecord> stepHistory = new ArrayList<>();
  private double evalSeconds;

  private FineTuner(TrainingJob job) {
    this.job = job;
    this.opts = job.options();
    this.params = job.parameters();
    this.scaler = job.scaler();
  }

  /**
   * Trains and returns what happened.
   *
   * @throws TrainingDivergedException when the loss or the gradient norm is NaN or infinite
   */
  public static TrainingResult run(TrainingJob job) {
    return new FineTuner(job).train();
  }

  private TrainingResult train() {
    TrainingListener listener = job.listener();
    List<TrainingExample> train = job.trainData();
    int n = train.size();
    long totalSteps = opts.totalSteps(n);
    long microPerEpoch = opts.microBatchesPerEpoch(n);
    int evalEvery = opts.resolvedEvalEverySteps(totalSteps);
    LrSchedule schedule =
        new LrSchedule(
            opts.lrScheduler(), LrSchedule.warmupSteps(opts.warmupRatio(), totalSteps), totalSteps);
    NDManager stateManager = job.manager().newSubManager();
    try {
      AdamW optimizer =
          AdamW.builder()
              .setParameters(params)
              .setManager(stateManager)
              .optBetas(opts.adamBeta1(), opts.adamBeta2())
              .optEps(opts.adamEpsilon())
              .optWeightDecay(opts.weightDecay())
              .build();
      optimizer.zeroGrad();
      ResumeState resume = job.resume();
      if (resume != null) {
        restore(resume.parameters().toArray(float[][]::new));
        for (int i = 0; i < params.size(); i++) {
          optimizer.expAvg().get(i).set(resume.expAvg().get(i));
          optimizer.expAvgSq().get(i).set(resume.expAvgSq().get(i));
        }
        if (scaler != null && resume.scaler() != null) {
          scaler.restore(resume.scaler());
        }
        // Skipped fp16 steps did not update the optimizer (nor advance the schedule).
        optimizer.restoreSteps(resume.optimizerSteps());
      }

      EvalRecord baseline = null;
      if (!job.validationData().isEmpty() && resume == null) {
        listener.onStageChange(TrainerStage.EVALUATING);
        baseline = evaluate(0);
        listener.onEval(baseline, true);
      }
      EvalRecord best = null;
      float[][] bestWeights = null;

      listener.onStageChange(TrainerStage.TRAINING);
      int epoch = 0;
      int[] order = order(n, epoch);
      int pos = 0;
      long microDone = 0;
      long trainedTokens = 0;
      double trainNanos = 0;
      double lastLoss = Double.NaN;
      long step = 0;
      long skip = resume == null ? 0 : resume.step();
      EvalRecord lastEval = baseline;
      while (step < totalSteps) {
        List<List<TrainingExample>> group = new ArrayList<>();
        while (group.size() < opts.gradientAccumulationSteps()) {
          if (pos >= n) {
            if (!group.isEmpty()) {
              break; // a short group closes the epoch, as in the HF Trainer
            }
            epoch++;
            order = order(n, epoch);
            pos = 0;
          }
          int end = Math.min(n, pos + opts.batchSize());
          List<TrainingExample> micro = new ArrayList<>(end - pos);
          for (int i = pos; i < end; i++) {
            micro.add(train.get(order[i]));
          }
          pos = end;
          group.add(micro);
        }
        if (step < skip) {
          // Replaying the data order up to the checkpoint puts the run where it stopped.
          step++;
          microDone += group.size();
          for (List<TrainingExample> micro : group) {
            for (TrainingExample e : micro) {
              int len = e.length();
              trainedTokens += opts.maxSeqLength() > 0 ? Math.min(len, opts.maxSeqLength()) : len;
            }
          }
          continue;
        }
        long started = System.nanoTime();
        // A skipped fp16 step leaves the schedule where it was, as transformers does.
        double lr = opts.learningRate() * schedule.multiplier(step - skippedSteps());
        // Dropout draws from libtorch's generator; a per-step seed makes a resumed run draw the
        // same masks as an uninterrupted one.
        Engine.getInstance().setRandomSeed((int) (opts.seed() * 1_000_003L + step));
        StepOutcome out = step(group, optimizer, lr, step + 1);
        trainNanos += System.nanoTime() - started;
        step++;
        microDone += group.size();
        trainedTokens += out.tokens;
        lastLoss = out.loss;
        double trainSeconds = trainNanos / 1e9;
        StepRecord record =
            new StepRecord(
                step,
                totalSteps,
                (double) microDone / microPerEpoch,
                out.loss,
                lr,
                out.gradNorm,
                trainedTokens,
                out.labelTokens,
                trainSeconds > 0 ? trainedTokens / trainSeconds : 0,
                trainSeconds,
                scaler == null ? null : scaler.scale(),
                out.skipped,
                skippedSteps());
        stepHistory.add(record);
        listener.onStep(record);

        boolean last = step == totalSteps;
        if (!job.validationData().isEmpty() && ((evalEvery > 0 && step % evalEvery == 0) || last)) {
          listener.onStageChange(TrainerStage.EVALUATING);
          lastEval = evaluate(step);
          listener.onEval(lastEval, false);
          if (best == null || lastEval.validLoss() < best.validLoss()) {
            best = lastEval;
            bestWeights = snapshot();
          }
          listener.onStageChange(TrainerStage.TRAINING);
        }
        if (job.checkpointer() != null
            && job.checkpointEverySteps() > 0
            && step % job.checkpointEverySteps() == 0
            && !last) {
          listener.onStageChange(TrainerStage.CHECKPOINTING);
          Path path = saveCheckpoint(step, optimizer);
          Double validLoss =
              lastEval != null && lastEval.step() == step ? lastEval.validLoss() : null;
          listener.onCheckpoint(new CheckpointInfo(step, path.toString(), validLoss));
          listener.onStageChange(TrainerStage.TRAINING);
        }
      }

      EvalRecord finalEval = lastEval;
      boolean restored = false;
      if (opts.restoreBest() && best != null && best != lastEval) {
        restore(bestWeights);
        finalEval = best;
        restored = true;
      }
      double trainSeconds = trainNanos / 1e9;
      return new TrainingResult(
          opts,
          totalSteps,
          step,
          n,
          job.validationData().size(),
          trainedTokens,
          lastLoss,
          baseline,
          best,
          finalEval,
          restored,
          stepHistory,
          evals,
          trainSeconds,
          evalSeconds,
          trainSeconds > 0 ? trainedTokens / trainSeconds : 0,
          scaler == null ? Precision.FP32 : Precision.FP16,
          scaler == null ? null : scaler.scale(),
          skippedSteps());
    } finally {
      job.trainingMode().accept(false);
      stateManager.close();
    }
  }

  private StepOutcome step(
      List<List<TrainingExample>> group, AdamW optimizer, double lr, long stepNumber) {
    long stepLabelTokens = 0;
    for (List<TrainingExample> micro : group) {
      stepLabelTokens += Batch.labelTokens(micro, opts.maxSeqLength());
    }
    // A step whose examples hold no label token has nothing to learn; dividing by 1 keeps it 0.
    float denominator = Math.max(1, stepLabelTokens);
    job.trainingMode().accept(true);
    double loss = 0;
    long tokens = 0;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (List<TrainingExample> micro : group) {
        // A scope per micro-batch frees its activations before the next one runs.
        try (NDScope microScope = new NDScope();
            GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          microScope.suppressNotUsedWarning();
          Batch batch = Batch.collate(micro, job.manager(), opts.padTokenId(), opts.maxSeqLength());
          tokens += batch.tokens();
          NDArray microLoss =
              Scalars.div(
                  job.model()
                      .lossSums(batch.inputIds(), batch.attentionMask(), batch.labels())
                      .nllSum(),
                  denominator);
          float value = microLoss.getFloat();
          if (!Float.isFinite(value)) {
            // Loss scaling cures overflowing gradients, not an overflowing forward pass.
            throw diverged(
                "the training loss became " + value + (scaler == null ? "" : " in fp16"),
                stepNumber,
                lr);
          }
          loss += value;
          collector.backward(scaler == null ? microLoss : scaler.scale(microLoss));
        }
      }
      if (scaler != null) {
        // Unscale before clipping so that maxGradNorm applies to the true gradients.
        boolean overflow = scaler.unscale(params);
        if (overflow) {
          optimizer.zeroGrad();
          scaler.update();
          return new StepOutcome(loss, Double.NaN, tokens, stepLabelTokens, true);
        }
      }
      double gradNorm = GradientClipping.clipGlobalNorm(params, opts.maxGradNorm());
      if (!Double.isFinite(gradNorm)) {
        throw diverged("the gradient norm became " + gradNorm, stepNumber, lr);
      }
      optimizer.step(lr);
      optimizer.zeroGrad();
      if (scaler != null) {
        scaler.update();
      }
      return new StepOutcome(loss, gradNorm, tokens, stepLabelTokens, false);
    } finally {
      job.trainingMode().accept(false);
    }
  }

  private TrainingDivergedException diverged(String what, long step, double lr) {
    return new TrainingDivergedException(
        what
            + " at step "
            + step
            + " (learning rate "
            + lr
            + "); lower hyperparameters.learningRate or set hyperparameters.maxGradNorm (e.g. 1.0)"
            + (scaler == null ? "" : ", or set hyperparameters.precision to fp32"),
        step);
  }

  /** Validation loss and token accuracy of the current weights, without dropout or gradients. */
  private EvalRecord evaluate(long step) {
    long started = System.nanoTime();
    job.trainingMode().accept(false);
    List<TrainingExample> valid = job.validationData();
    double nll = 0;
    double correct = 0;
    long labelTokens = 0;
    for (int i = 0; i < valid.size(); i += opts.batchSize()) {
      List<TrainingExample> micro = valid.subList(i, Math.min(valid.size(), i + opts.batchSize()));
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        Batch batch = Batch.collate(micro, job.manager(), opts.padTokenId(), opts.maxSeqLength());
        CausalLmLoss.Sums sums =
            job.model().lossSums(batch.inputIds(), batch.attentionMask(), batch.labels());
        nll += sums.nllSum().getFloat();
        correct += sums.correct().getFloat();
        labelTokens += batch.labelTokens();
      }
    }
    long denominator = Math.max(1, labelTokens);
    EvalRecord record = new EvalRecord(step, nll / denominator, correct / denominator, labelTokens);
    evals.add(record);
    evalSeconds += (System.nanoTime() - started) / 1e9;
    return record;
  }

  private int[] order(int n, int epoch) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    if (opts.shuffle()) {
      // One generator per epoch: a resumed run can rebuild any epoch's order from the seed.
      Random random = new Random(opts.seed() * 1_000_003L + epoch);
      for (int i = n - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    return order;
  }

  private float[][] snapshot() {
    float[][] copy = new float[params.size()][];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = params.get(i).toFloatArray();
    }
    return copy;
  }

  private void restore(float[][] weights) {
    for (int i = 0; i < weights.length; i++) {
      params.get(i).set(weights[i]);
    }
  }

  private Path saveCheckpoint(long step, AdamW optimizer) {
    try {
      return job.checkpointer().save(step, optimizer);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the checkpoint of step " + step, e);
    }
  }

  private long skippedSteps() {
    return scaler == null ? 0 : scaler.skippedSteps();
  }

  private record StepOutcome(
      double loss, double gradNorm, long tokens, long labelTokens, boolean skipped) {}

  /** Writes a checkpoint (adapter and optimizer state) and returns its folder. */
  @FunctionalInterface
  public interface Checkpointer {
    /** Saves the state after optimizer step {@code step}. */
    Path save(long step, AdamW optimizer) throws IOException;
  }

  /**
   * Everything a run needs.
   *
   * @param model the model, with its trainable weights inside
   * @param parameters the trainable arrays (requiring gradients)
   * @param trainingMode switches dropout on and off
   * @param trainData training examples
   * @param validationData validation examples (may be empty)
   * @param options resolved hyperparameters
   * @param listener progress callback
   * @param manager owns per-run state (a sub-manager is used and closed)
   * @param checkpointer writes periodic checkpoints, or null
   * @param checkpointEverySteps checkpoint interval (0: none)
   * @param resume state to continue from, or null to start fresh
   * @param scaler loss scaler of an fp16 run (the model computes in fp16), or null for fp32
   */
  public record TrainingJob(
      CausalLm model,
      List<NDArray> parameters,
      Consumer<Boolean> trainingMode,
      List<TrainingExample> trainData,
      List<TrainingExample> validationData,
      TrainingOptions options,
      TrainingListener listener,
      NDManager manager,
      Checkpointer checkpointer,
      int checkpointEverySteps,
      ResumeState resume,
      GradScaler scaler) {

    /** Checks what a run cannot do without. */
    public TrainingJob {
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(manager, "manager");
      Objects.requireNonNull(options, "options");
      if (parameters == null || parameters.isEmpty()) {
        throw new IllegalArgumentException("nothing to train: no trainable parameters");
      }
      if (trainData == null || trainData.isEmpty()) {
        throw new IllegalArgumentException("dataset.train holds no examples; add training data");
      }
      parameters = List.copyOf(parameters);
      trainData = List.copyOf(trainData);
      validationData = validationData == null ? List.of() : List.copyOf(validationData);
      trainingMode = trainingMode == null ? t -> {} : trainingMode;
      listener = listener == null ? TrainingListener.NONE : listener;
    }

    /** Starts a builder. */
    public static Builder builder() {
      return new Builder();
    }

    /** Builder for {@link TrainingJob}. */
    public static final class Builder {
      private CausalLm model;
      private List<NDArray> parameters;
      private Consumer<Boolean> trainingMode;
      private List<TrainingExample> trainData;
      private List<TrainingExample> validationData;
      private TrainingOptions options = TrainingOptions.builder().build();
      private TrainingListener listener;
      private NDManager manager;
      private Checkpointer checkpointer;
      private int checkpointEverySteps;
      private ResumeState resume;
      private GradScaler scaler;

      private Builder() {}

      /** Sets the model. */
      public Builder setModel(CausalLm model) {
        this.model = model;
        return this;
      }

      /** Sets the trainable arrays. */
      public Builder setParameters(List<NDArray> parameters) {
        this.parameters = parameters;
        return this;
      }

      /** Sets the dropout switch (e.g. {@code adapter::setTraining}). */
      public Builder optTrainingMode(Consumer<Boolean> trainingMode) {
        this.trainingMode = trainingMode;
        return this;
      }

      /** Sets the training examples. */
      public Builder setTrainData(List<TrainingExample> trainData) {
        this.trainData = trainData;
        return this;
      }

      /** Sets the validation examples. */
      public Builder optValidationData(List<TrainingExample> validationData) {
        this.validationData = validationData;
        return this;
      }

      /** Sets the hyperparameters. */
      public Builder setOptions(TrainingOptions options) {
        this.options = options;
        return this;
      }

      /** Sets the progress callback. */
      public Builder optListener(TrainingListener listener) {
        this.listener = listener;
        return this;
      }

      /** Sets the manager. */
      public Builder setManager(NDManager manager) {
        this.manager = manager;
        return this;
      }

      /** Sets periodic checkpoints. */
      public Builder optCheckpointer(int everySteps, Checkpointer checkpointer) {
        this.checkpointEverySteps = everySteps;
        this.checkpointer = checkpointer;
        return this;
      }

      /** Continues a run from a checkpoint instead of starting fresh. */
      public Builder optResume(ResumeState resume) {
        this.resume = resume;
        return this;
      }

      /**
       * Trains with dynamic loss scaling; use it when the model computes in fp16 ({@link
       * io.kubetune.trainer.model.LlamaModel#useFp16Compute()}).
       */
      public Builder optGradScaler(GradScaler scaler) {
        this.scaler = scaler;
        return this;
      }

      /** Builds the job. */
      public TrainingJob build() {
        return new TrainingJob(
            model,
            parameters,
            trainingMode,
            trainData,
            validationData,
            options,
            listener,
            manager,
            checkpointer,
            checkpointEverySteps,
            resume,
            scaler);
      }
    }
  }
}
