package io.kubetune.trainer.export;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import io.kubetune.trainer.train.AdamW;
import io.kubetune.trainer.train.ResumeState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Training checkpoints under {@code <root>/step-<n>/}: the PEFT adapter (so any checkpoint can be
 * served or evaluated as is), {@code optimizer.safetensors} with the AdamW moments, and {@code
 * trainer_state.json}, written last, which marks the checkpoint complete.
 */
public final class Checkpoints {

  /** Marks a complete checkpoint. */
  public static final String STATE_FILE = "trainer_state.json";

  private static final String OPTIMIZER_FILE = "optimizer.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Checkpoints() {}

  /**
   * Writes the checkpoint of optimizer step {@code step} and keeps only the newest {@code keepLast}
   * complete checkpoints.
   *
   * @return the checkpoint folder
   */
  public static Path write(
      Path root, long step, LoraAdapter adapter, AdamW optimizer, String baseModel, int keepLast)
      throws IOException {
    Path dir = root.resolve("step-" + step);
    Path tmp = root.resolve(".step-" + step + ".partial");
    deleteTree(tmp);
    PeftAdapter.export(adapter, tmp, baseModel);
    SafetensorsWriter w = new SafetensorsWriter();
    List<NDArray> m = optimizer.expAvg();
    List<NDArray> v = optimizer.expAvgSq();
    for (int i = 0; i < m.size(); i++) {
      w.add("exp_avg." + i, m.get(i), DType.F32);
      w.add("exp_avg_sq." + i, v.get(i), DType.F32);
    }
    w.write(tmp.resolve(OPTIMIZER_FILE));
    JSON.writeValue(
        tmp.resolve(STATE_FILE).toFile(),
        Map.of("step", step, "optimizerSteps", optimizer.steps(), "parameters", m.size()));
    deleteTree(dir);
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    if (keepLast > 0) {
      List<Path> complete = complete(root);
      for (int i = 0; i < complete.size() - keepLast; i++) {
        deleteTree(complete.get(i));
      }
    }
    return dir;
  }

  /** The newest complete checkpoint under {@code root}, if any. */
  public static Optional<Path> latest(Path root) throws IOException {
    List<Path> complete = complete(root);
    return complete.isEmpty() ? Optional.empty() : Optional.of(complete.get(complete.size() - 1));
  }

  /** Reads a checkpoint written by {@link #write} for {@code optResume}. */
  public static ResumeState read(Path dir, LoraAdapter adapter) throws IOException {
    long step = JSON.readTree(dir.resolve(STATE_FILE).toFile()).get("step").asLong();
    List<float[]> params = new ArrayList<>();
    List<float[]> expAvg = new ArrayList<>();
    List<float[]> expAvgSq = new ArrayList<>();
    try (SafetensorsFile weights = SafetensorsFile.open(dir.resolve(PeftAdapter.WEIGHTS_FILE));
        SafetensorsFile opt = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
      int i = 0;
      for (String name : adapter.namedParameters().keySet()) {
        if (!weights.contains(name) || !opt.contains("exp_avg." + i)) {
          throw new IOException(
              dir
                  + " does not match this adapter (no "
                  + name
                  + "); set checkpointing.resume=Never");
        }
        params.add(weights.readFloats(name));
        expAvg.add(opt.readFloats("exp_avg." + i));
        expAvgSq.add(opt.readFloats("exp_avg_sq." + i));
        i++;
      }
    }
    return new ResumeState(step, params, expAvg, expAvgSq);
  }

  /** Writes the trainable weights of a checkpoint into its folder. */
  @FunctionalInterface
  public interface WeightsWriter {
    /** Writes the weights into {@code dir}, which exists. */
    void write(Path dir) throws IOException;
  }

  /**
   * Writes the checkpoint of optimizer step {@code step} for a method without a LoRA adapter (full
   * and partial fine-tuning): {@code weights} writes the trainable tensors, the rest is as {@link
   * #write(Path, long, LoraAdapter, AdamW, String, int)}.
   *
   * @return the checkpoint folder
   */
  public static Path write(
      Path root, long step, WeightsWriter weights, AdamW optimizer, int keepLast)
      throws IOException {
    Path dir = root.resolve("step-" + step);
    Path tmp = root.resolve(".step-" + step + ".partial");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    weights.write(tmp);
    SafetensorsWriter w = new SafetensorsWriter();
    List<NDArray> m = optimizer.expAvg();
    List<NDArray> v = optimizer.expAvgSq();
    for (int i = 0; i < m.size(); i++) {
      w.add("exp_avg." + i, m.get(i), DType.F32);
      w.add("exp_avg_sq." + i, v.get(i), DType.F32);
    }
    w.write(tmp.resolve(OPTIMIZER_FILE));
    JSON.writeValue(
        tmp.resolve(STATE_FILE).toFile(),
        Map.of("step", step, "optimizerSteps", optimizer.steps(), "parameters", m.size()));
    deleteTree(dir);
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    if (keepLast > 0) {
      List<Path> complete = complete(root);
      for (int i = 0; i < complete.size() - keepLast; i++) {
        deleteTree(complete.get(i));
      }
    }
    return dir;
  }

  /**
   * Reads a checkpoint written by {@link #write(Path, long, WeightsWriter, AdamW, int)} whose
   * trainable tensors {@code names} (in training order) are in {@code weightsFile}.
   */
  public static ResumeState read(Path dir, String weightsFile, List<String> names)
      throws IOException {
    long step = JSON.readTree(dir.resolve(STATE_FILE).toFile()).get("step").asLong();
    List<float[]> params = new ArrayList<>();
    List<float[]> expAvg = new ArrayList<>();
    List<float[]> expAvgSq = new ArrayList<>();
    try (SafetensorsFile weights = SafetensorsFile.open(dir.resolve(weightsFile));
        SafetensorsFile opt = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        if (!weights.contains(name) || !opt.contains("exp_avg." + i)) {
          throw new IOException(
              dir
                  + " does not match the trainable weights of this method (no "
                  + name
                  + "); set checkpointing.resume=Never");
        }
        params.add(weights.readFloats(name));
        expAvg.add(opt.readFloats("exp_avg." + i));
        expAvgSq.add(opt.readFloats("exp_avg_sq." + i));
      }
    }
    return new ResumeState(step, params, expAvg, expAvgSq);
  }

  private static List<Path> complete(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> p.getFileName().toString().matches("step-\\d+"))
          .filter(p -> Files.exists(p.resolve(STATE_FILE)))
          .sorted(Comparator.comparingLong(Checkpoints::stepOf))
          .toList();
    }
  }

  private static long stepOf(Path p) {
    return Long.parseLong(p.getFileName().toString().substring("step-".length()));
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              f -> {
                try {
                  Files.delete(f);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
