package io.kubetune.trainer.job;

import ai.djl.ndarray.NDArray;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.MethodFootprint;
import io.kubetune.trainer.export.Checkpoints;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.export.TrainingReport;
import io.kubetune.trainer.full.TrainableWeights;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.quant.BaseWeightMemory;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.train.AdamW;
import io.kubetune.trainer.train.GradScaler;
import io.kubetune.trainer.train.ResumeState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code lora} and {@code qlora}: only the adapter's A and B matrices train, on an fp32 or an NF4
 * base; checkpoints, best snapshots and the export are PEFT adapter folders.
 */
final class LoraMethod implements TrainingMethod {
  private final String type;
  private final LoraAdapter adapter;
  private final long baseParameters;
  private final long baseWeightBytes;
  private final Map<String, Object> nf4;

  /**
   * @param type lora or qlora
   * @param baseParameters scalars of the base model
   * @param baseWeightBytes resident bytes of the base weights after setup
   * @param nf4 for qlora, the NF4 settings and {@link BaseWeightMemory#toReport()}
   */
  LoraMethod(
      String type,
      LoraAdapter adapter,
      long baseParameters,
      long baseWeightBytes,
      Map<String, Object> nf4) {
    this.type = type;
    this.adapter = adapter;
    this.baseParameters = baseParameters;
    this.baseWeightBytes = baseWeightBytes;
    this.nf4 = nf4 == null ? null : new LinkedHashMap<>(nf4);
  }

  @Override
  public String type() {
    return type;
  }

  @Override
  public List<NDArray> parameters() {
    return adapter.parameters();
  }

  @Override
  public void setTraining(boolean training) {
    adapter.setTraining(training);
  }

  @Override
  public MethodFootprint footprint() {
    return new MethodFootprint(
        type,
        adapter.parameterCount(),
        baseParameters,
        TrainableWeights.adamWStateBytes(adapter.parameters()),
        baseWeightBytes);
  }

  @Override
  public TrainingReport.Lora loraReport() {
    return TrainingReport.Lora.of(adapter);
  }

  @Override
  public List<String> trainableModules() {
    return null;
  }

  @Override
  public Map<String, Object> baseWeightMemory() {
    return nf4;
  }

  @Override
  public void saveWeights(Path dir, String baseModel) throws IOException {
    PeftAdapter.export(adapter, dir, baseModel);
  }

  @Override
  public void loadWeights(Path dir) throws IOException {
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(PeftAdapter.WEIGHTS_FILE))) {
      for (Map.Entry<String, NDArray> e : adapter.namedParameters().entrySet()) {
        e.getValue().set(f.readFloats(e.getKey()));
      }
    }
  }

  @Override
  public Path writeCheckpoint(
      Path root, long step, AdamW optimizer, GradScaler scaler, String baseModel, int keepLast)
      throws IOException {
    return Checkpoints.write(root, step, adapter, optimizer, scaler, baseModel, keepLast);
  }

  @Override
  public ResumeState readCheckpoint(Path dir) throws IOException {
    return Checkpoints.read(dir, adapter);
  }

  @Override
  public AdapterInfo export(Path out, String baseModel) throws IOException {
    AdapterInfo exported = PeftAdapter.export(adapter, out, baseModel);
    return new AdapterInfo(
        out.toString(),
        AdapterDigest.of(out),
        exported.rank(),
        baseModel,
        AdapterInfo.KIND_ADAPTER);
  }
}
