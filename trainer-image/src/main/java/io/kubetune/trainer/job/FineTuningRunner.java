package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.CheckpointInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerResult;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.cli.StopSignal;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.cli.TrainingJob;
import io.kubetune.trainer.cli.TrainingRunner;
import io.kubetune.trainer.data.DatasetPipeline;
import io.kubetune.trainer.data.PreparedDataset;
import io.kubetune.trainer.export.Checkpoints;
import io.kubetune.trainer.export.PausePoints;
import io.kubetune.trainer.export.TrainingReport;
import io.kubetune.trainer.full.HfModelExporter;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.EvalRecord;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.GradScaler;
import io.kubetune.trainer.train.Precision;
import io.kubetune.trainer.train.ResumeState;
import io.kubetune.trainer.train.TrainingDivergedException;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train}: loads the base model, prepares the dataset, resolves {@code auto} hyperparameters,
 * sets the model up for {@code method.type} ({@link TrainingMethods}: LoRA, QLoRA on an NF4 base,
 * full or partial fine-tuning), resumes from the newest checkpoint, runs {@link FineTuner}, exports
 * the PEFT adapter (lora, qlora) or the full HF model (full, partial) with {@code
 * training_report.json} and returns the result summary.
 */
public final class FineTuningRunner implements TrainingRunner {
  private static final Logger LOG = LoggerFactory.getLogger(FineTuningRunner.class);

  /** Checkpoint interval when {@code checkpointing.everySteps} is not set. */
  static final int DEFAULT_CHECKPOINT_EVERY_STEPS = 50;

  /** Checkpoints kept when {@code checkpointing.keepLast} is not set. */
  static final int DEFAULT_KEEP_LAST = 2;

  private final long maxShardBytes;

  /** The production runner: full-model exports are split into 5 GB shards as transformers does. */
  public FineTuningRunner() {
    this(HfModelExporter.DEFAULT_MAX_SHARD_BYTES);
  }

  /** A runner whose full-model exports are split above {@code maxShardBytes}. */
  public FineTuningRunner(long maxShardBytes) {
    this.maxShardBytes = maxShardBytes;
  }

  @Override
  public TrainerResult train(TrainingJob job) throws Exception {
    Instant started = Instant.now();
    TrainerConfig cfg = job.config();
    ProgressBridge progress = new ProgressBridge(job.progress());
    String baseModel = baseModelName(cfg.baseModel());
    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel model = Models.load(job.modelDir(), manager)) {
      stopIfRequested(job.stop(), "before the dataset was read");
      progress.stage(TrainerStage.VALIDATING_DATASET);
      TrainerConfig.Hyperparameters h = cfg.hyperparameters();
      int maxSeqLength = AutoHyperparameters.maxSeqLength(h, model.config());
      long seed = AutoHyperparameters.seed(h);
      PreparedDataset data = prepare(cfg, job.modelDir(), maxSeqLength, seed);
      progress.dataset(data.report());
      if (!data.report().valid()) {
        progress.stage(TrainerStage.VALIDATING_DATASET);
        throw new TrainerFailureException(FailureReason.DATASET_INVALID, invalid(data.report()));
      }
      List<TrainingExample> train = Evaluator.examples(data.train());
      List<TrainingExample> valid = Evaluator.examples(data.validation());
      Integer pad = model.config().padTokenId();
      TrainingOptions opts =
          AutoHyperparameters.resolve(h, train.size(), maxSeqLength, pad == null ? 0 : pad);
      Precision precision = AutoHyperparameters.precision(h, manager);
      Map<String, Object> resolved = new LinkedHashMap<>(opts.toMap(train.size()));
      resolved.put("packing", AutoHyperparameters.packing(h));
      resolved.put("precision", precision.value());
      progress.resolved(resolved, opts.totalSteps(train.size()));

      TrainingMethod method =
          TrainingMethods.create(cfg.method(), model, manager, seed, job.modelDir(), maxShardBytes);
      GradScaler scaler = null;
      if (precision == Precision.FP16) {
        // After the method chose what trains: only frozen weights go to fp16, trainable ones keep
        // fp32 master copies.
        long bytes = model.useFp16Compute();
        scaler = GradScaler.builder().build();
        LOG.info("fp16 mixed precision: base weights hold {} bytes", bytes);
      }
      GradScaler lossScaler = scaler;
      MethodFootprint footprint = method.footprint();
      LOG.info("method {}", describe(footprint));
      Checkpointing ckpt = Checkpointing.of(cfg);
      ResumeState resume = ckpt.resumeState(method);
      BestAdapter best =
          !ckpt.enabled()
              ? null
              : resume == null
                  ? BestAdapter.fresh(ckpt.dir())
                  : BestAdapter.resumed(ckpt.dir(), resume.step());
      progress.checkpoints(ckpt.list(Map.of()));
      EvalMetrics baseline = null;
      if (resume != null && !valid.isEmpty()) {
        // The loop evaluates the baseline only on a fresh start. The weights of the checkpoint are
        // put in by the loop; until then a fresh adapter (B = 0) or the untouched base weights
        // still compute the base model, so the resumed run reports the same baseline.
        progress.stage(TrainerStage.EVALUATING);
        method.setTraining(false);
        baseline = Evaluator.evaluate(CausalLm.of(model), valid, opts, manager);
        progress.onEval(
            new EvalRecord(0, baseline.validLoss(), baseline.validTokenAccuracy(), 0), true);
      }
      stopIfRequested(job.stop(), "before the first training step");
      Map<Long, Double> checkpointLosses = new HashMap<>();
      TrainingResult result;
      try {
        result =
            FineTuner.run(
                FineTuner.TrainingJob.builder()
                    .setModel(CausalLm.of(model))
                    .setParameters(method.parameters())
                    .optTrainingMode(method::setTraining)
                    .setTrainData(train)
                    .optValidationData(valid)
                    .setOptions(opts)
                    .optListener(progress)
                    // Offered after every step so that a stop request is seen between steps;
                    // the checkpointer writes only on its interval or when stopping.
                    .optCheckpointer(
                        1,
                        (step, optimizer) -> {
                          if (best != null) {
                            best.offer(step, progress.evalAt(step), method, baseModel);
                          }
                          PausePoints.reached(
                              PausePoints.AFTER_STEP, step, job.stop()::isStopRequested);
                          boolean stopping = job.stop().isStopRequested();
                          if (!ckpt.enabled()) {
                            if (stopping) {
                              throw new CancellationException(
                                  "stopped after step "
                                      + step
                                      + " without a checkpoint (set"
                                      + " output.checkpointDir to resume)");
                            }
                            return job.modelDir();
                          }
                          if (!stopping && step % ckpt.everySteps() != 0) {
                            return ckpt.dir();
                          }
                          progress.stage(TrainerStage.CHECKPOINTING);
                          Path written =
                              method.writeCheckpoint(
                                  ckpt.dir(),
                                  step,
                                  optimizer,
                                  lossScaler,
                                  baseModel,
                                  ckpt.keepLast());
                          checkpointLosses.put(step, progress.validLossAt(step));
                          progress.checkpoints(ckpt.list(checkpointLosses));
                          // SIGTERM during a periodic write: this checkpoint is current, stop now.
                          if (stopping || job.stop().isStopRequested()) {
                            throw new CancellationException(
                                "checkpoint " + written + " written after step " + step);
                          }
                          progress.stage(TrainerStage.TRAINING);
                          return written;
                        })
                    .optResume(resume)
                    .optGradScaler(lossScaler)
                    .setManager(manager)
                    .build());
      } catch (TrainingDivergedException e) {
        throw new TrainerFailureException(FailureReason.TRAINING_DIVERGED, e.getMessage(), e);
      }
      if (baseline == null && result.baseline() != null) {
        baseline = result.baseline().toMetrics();
      }
      EvalMetrics finalEval = result.finalEval() == null ? null : result.finalEval().toMetrics();
      if (best != null
          && best.metrics() != null
          && finalEval != null
          && best.metrics().validLoss() < finalEval.validLoss()) {
        // Only after a resume: an evaluation from before the stop beats every later one.
        LOG.info("exporting the best weights, from step {}", best.step());
        best.restoreInto(method);
        finalEval = best.metrics();
      }

      progress.stage(TrainerStage.EXPORTING);
      Path adapterDir = Path.of(cfg.output().adapterDir());
      AdapterInfo info = method.export(adapterDir, baseModel);
      TrainingReport.of(
              result,
              method.loraReport(),
              footprint,
              method.trainableModules(),
              method.baseWeightMemory(),
              info,
              baseModel,
              data.report(),
              started,
              Instant.now())
          .write(adapterDir);
      LOG.info(
          "{} written to {} ({})",
          AdapterInfo.isModelKind(info.kind()) ? "model" : "adapter",
          adapterDir,
          info.digest());
      return new TrainerResult(
          Contract.SCHEMA_VERSION,
          true,
          null,
          summary(result, footprint, baseline, finalEval),
          info,
          baseline,
          finalEval,
          result.finalTrainLoss(),
          result.steps(),
          footprint);
    }
  }

  /** Reads, templates and tokenizes the dataset. */
  static PreparedDataset prepare(TrainerConfig cfg, Path modelDir, int maxSeqLength, long seed) {
    try {
      return DatasetPipeline.prepare(
          cfg.dataset(),
          modelDir,
          maxSeqLength,
          AutoHyperparameters.packing(cfg.hyperparameters()),
          seed);
    } catch (IOException e) {
      throw new TrainerFailureException(
          FailureReason.MODEL_INVALID, "tokenizer of " + modelDir + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new TrainerFailureException(
          FailureReason.CONFIG_INVALID, "dataset: " + e.getMessage(), e);
    }
  }

  /** The one-line message of an invalid dataset; the full report is in the progress document. */
  static String invalid(DatasetReport report) {
    StringBuilder sb =
        new StringBuilder("dataset invalid: ")
            .append(report.errorCount())
            .append(report.errorCount() == 1 ? " problem" : " problems");
    if (!report.errors().isEmpty()) {
      DatasetError first = report.errors().get(0);
      sb.append("; first: line ")
          .append(first.line())
          .append(": ")
          .append(first.code())
          .append(": ")
          .append(first.message());
    }
    return sb.append("; run validate-dataset for the full list").toString();
  }

  private static String summary(
      TrainingResult r, MethodFootprint f, EvalMetrics baseline, EvalMetrics finalEval) {
    String s = "trained " + r.steps() + " steps (" + describe(f) + ")";
    if (baseline != null && finalEval != null) {
      s +=
          String.format(
              Locale.ROOT,
              "; validation loss %.4f -> %.4f, token accuracy %.3f -> %.3f",
              baseline.validLoss(),
              finalEval.validLoss(),
              baseline.validTokenAccuracy(),
              finalEval.validTokenAccuracy());
    }
    return s;
  }

  /** One line for logs and the result message: what trained and what it cost in memory. */
  static String describe(MethodFootprint f) {
    String s =
        String.format(
            Locale.ROOT,
            "%s: %,d trainable parameters, optimizer state %s",
            f.method(),
            f.trainableParameters(),
            mib(f.optimizerStateBytes()));
    if (f.baseWeightBytes() != null) {
      s += ", base weights " + mib(f.baseWeightBytes());
    }
    return s;
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024.0));
  }

  private static String baseModelName(TrainerConfig.BaseModel b) {
    String uri = b.uri();
    if (b.revision() != null && uri.startsWith("hf://") && !uri.contains("@")) {
      return uri + "@" + b.revision();
    }
    return uri;
  }

  private static void stopIfRequested(StopSignal stop, String when) {
    if (stop.isStopRequested()) {
      throw new CancellationException("stopped " + when);
    }
  }

  /** The checkpoint policy of a config. */
  record Checkpointing(Path dir, int everySteps, int keepLast, boolean resume) {
    static Checkpointing of(TrainerConfig cfg) {
      TrainerConfig.Checkpointing c = cfg.checkpointing();
      String dir = cfg.output() == null ? null : cfg.output().checkpointDir();
      return new Checkpointing(
          dir == null ? null : Path.of(dir),
          c == null || c.everySteps() == null ? DEFAULT_CHECKPOINT_EVERY_STEPS : c.everySteps(),
          c == null || c.keepLast() == null ? DEFAULT_KEEP_LAST : c.keepLast(),
          c == null || c.resume() == null || c.resume().equals("Auto"));
    }

    boolean enabled() {
      return dir != null;
    }

    /** The state of the newest complete checkpoint, when resuming is on and one exists. */
    ResumeState resumeState(TrainingMethod method) {
      if (!enabled() || !resume) {
        return null;
      }
      try {
        // Corrupt or half-written checkpoints are skipped with a warning, never loaded.
        return Checkpoints.readLatest(dir, method::readCheckpoint).orElse(null);
      } catch (IOException | RuntimeException e) {
        throw new TrainerFailureException(
            FailureReason.CONFIG_INVALID,
            "checkpointing.resume: cannot resume from "
                + dir
                + ": "
                + e.getMessage()
                + "; set checkpointing.resume to Never or empty output.checkpointDir",
            e);
      }
    }

    /** Complete checkpoints on disk, oldest first, with the validation losses known for them. */
    List<CheckpointInfo> list(Map<Long, Double> losses) throws IOException {
      List<CheckpointInfo> out = new ArrayList<>();
      if (!enabled() || !Files.isDirectory(dir)) {
        return out;
      }
      try (Stream<Path> s = Files.list(dir)) {
        s.filter(p -> p.getFileName().toString().matches("step-\\d+"))
            .filter(p -> Files.isRegularFile(p.resolve(Checkpoints.STATE_FILE)))
            .map(p -> Long.parseLong(p.getFileName().toString().substring("step-".length())))
            .sorted()
            .forEach(
                step ->
                    out.add(
                        new CheckpointInfo(
                            step, dir.resolve("step-" + step).toString(), losses.get(step))));
      }
      return out;
    }
  }
}
