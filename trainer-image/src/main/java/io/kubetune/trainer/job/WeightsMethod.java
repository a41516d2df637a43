package io.kubetune.trainer.job;

import ai.djl.ndarray.NDArray;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.contract.ModelDigest;
import io.kubetune.trainer.export.Checkpoints;
import io.kubetune.trainer.export.TrainingReport;
import io.kubetune.trainer.full.HfModelExporter;
import io.kubetune.trainer.full.TrainableWeights;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import io.kubetune.trainer.train.AdamW;
import io.kubetune.trainer.train.GradScaler;
import io.kubetune.trainer.train.ResumeState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code full} and {@code partial}: base weights train in place ({@link TrainableWeights}).
 * Checkpoints and best snapshots hold only the trainable tensors ({@value #WEIGHTS_FILE}); the
 * export is a complete Hugging Face model folder ({@link HfModelExporter}, fp32, sharded above 5
 * GB), not an adapter.
 */
final class WeightsMethod implements TrainingMethod {
  /** Trainable tensors of a checkpoint or best snapshot, by checkpoint name, f32. */
  static final String WEIGHTS_FILE = "trainable_weights.safetensors";

  private final String type;
  private final LlamaModel model;
  private final TrainableWeights weights;
  private final Path source;
  private final long maxShardBytes;

  /**
   * @param type full or partial
   * @param source the base model folder (its config.json and tokenizer files are exported too)
   * @param maxShardBytes largest exported weight file
   */
  WeightsMethod(
      String type, LlamaModel model, TrainableWeights weights, Path source, long maxShardBytes) {
    this.type = type;
    this.model = model;
    this.weights = weights;
    this.source = source;
    this.maxShardBytes = maxShardBytes;
  }

  @Override
  public String type() {
    return type;
  }

  @Override
  public List<NDArray> parameters() {
    return weights.arrays();
  }

  @Override
  public void setTraining(boolean training) {
    // The base model has no dropout; only LoRA layers do.
  }

  @Override
  public MethodFootprint footprint() {
    long total = 0;
    long bytes = 0;
    for (String name : model.weightNames()) {
      NDArray w = model.weight(name);
      total += w.size();
      bytes += w.size() * w.getDataType().getNumOfBytes();
    }
    return new MethodFootprint(
        type,
        weights.parameterCount(),
        total,
        TrainableWeights.adamWStateBytes(weights.arrays()),
        bytes);
  }

  @Override
  public TrainingReport.Lora loraReport() {
    return null;
  }

  @Override
  public List<String> trainableModules() {
    return type.equals("partial") ? List.copyOf(weights.byName().keySet()) : null;
  }

  @Override
  public Map<String, Object> baseWeightMemory() {
    return null;
  }

  @Override
  public void saveWeights(Path dir, String baseModel) throws IOException {
    Files.createDirectories(dir);
    SafetensorsWriter w = new SafetensorsWriter();
    for (Map.Entry<String, NDArray> e : weights.byName().entrySet()) {
      w.add(e.getKey(), e.getValue(), DType.F32);
    }
    w.write(dir.resolve(WEIGHTS_FILE));
  }

  @Override
  public void loadWeights(Path dir) throws IOException {
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(WEIGHTS_FILE))) {
      for (Map.Entry<String, NDArray> e : weights.byName().entrySet()) {
        e.getValue().set(f.readFloats(e.getKey()));
      }
    }
  }

  @Override
  public Path writeCheckpoint(
      Path root, long step, AdamW optimizer, GradScaler scaler, String baseModel, int keepLast)
      throws IOException {
    return Checkpoints.write(
        root, step, WEIGHTS_FILE, dir -> saveWeights(dir, baseModel), optimizer, scaler, keepLast);
  }

  @Override
  public ResumeState readCheckpoint(Path dir) throws IOException {
    return Checkpoints.read(dir, WEIGHTS_FILE, Checkpoints.sizes(weights.byName()));
  }

  @Override
  public AdapterInfo export(Path out, String baseModel) throws IOException {
    HfModelExporter.builder()
        .setSource(source)
        .optDtype(DType.F32)
        .optMaxShardBytes(maxShardBytes)
        .build()
        .export(model, out);
    return new AdapterInfo(
        out.toString(), ModelDigest.of(out), null, baseModel, AdapterInfo.KIND_MODEL);
  }
}
