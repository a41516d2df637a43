package io.kubetune.trainer.job;

import ai.djl.ndarray.NDArray;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.trainer.export.Checkpoints;
import io.kubetune.trainer.export.TrainingReport;
import io.kubetune.trainer.train.AdamW;
import io.kubetune.trainer.train.GradScaler;
import io.kubetune.trainer.train.ResumeState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What differs between {@code method.type}s once the model is loaded: which arrays train, how their
 * checkpoints and best snapshots are stored, and what is exported. {@link FineTuningRunner} runs
 * the one training loop for all of them; {@link TrainingMethods#create} picks the implementation.
 */
interface TrainingMethod {

  /** lora, qlora, full or partial. */
  String type();

  /** The trainable arrays, in the order the optimizer and checkpoints use. */
  List<NDArray> parameters();

  /** Switches dropout on (training) and off (evaluation). */
  void setTraining(boolean training);

  /** Trainable scalars, optimizer state and base-weight memory, measured after setup. */
  MethodFootprint footprint();

  /** LoRA settings for the report; null for methods without an adapter. */
  TrainingReport.Lora loraReport();

  /** For partial fine-tuning, the tensors that train; null otherwise. */
  List<String> trainableModules();

  /** For QLoRA, the measured resident bytes of the NF4 base; null otherwise. */
  Map<String, Object> baseWeightMemory();

  /** Writes the current trainable weights into {@code dir} (a best-so-far snapshot). */
  void saveWeights(Path dir, String baseModel) throws IOException;

  /** Puts weights saved by {@link #saveWeights} back into the trainable arrays. */
  void loadWeights(Path dir) throws IOException;

  /**
   * Writes the checkpoint of step {@code step} (with the loss-scaler state of an fp16 run, {@code
   * scaler} null in fp32) and keeps the newest {@code keepLast}.
   */
  Path writeCheckpoint(
      Path root, long step, AdamW optimizer, GradScaler scaler, String baseModel, int keepLast)
      throws IOException;

  /**
   * Reads a checkpoint written by {@link #writeCheckpoint} for this method and model.
   *
   * @throws Checkpoints.CorruptCheckpointException when it is incomplete or damaged
   */
  ResumeState readCheckpoint(Path dir) throws IOException;

  /** Exports the result into {@code out} and describes it (path, digest, kind). */
  AdapterInfo export(Path out, String baseModel) throws IOException;
}
