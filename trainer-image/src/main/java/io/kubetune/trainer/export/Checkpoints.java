package io.kubetune.trainer.export;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsException;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import io.kubetune.trainer.train.AdamW;
import io.kubetune.trainer.train.GradScaler;
import io.kubetune.trainer.train.ResumeState;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training checkpoints under {@code <root>/step-<n>/}: the PEFT adapter (so any checkpoint can be
 * served or evaluated as is), {@code optimizer.safetensors} with the AdamW moments, and {@code
 * trainer_state.json}, written last, which marks the checkpoint complete.
 *
 * <p>A checkpoint is never half-written: it is built in {@code <root>/.step-<n>.partial/}, every
 * file and the folder are fsynced, and only then is the folder renamed to {@code step-<n>} (one
 * atomic rename on a POSIX file system) and the parent folder fsynced. A trainer killed at any
 * point leaves either the complete new checkpoint or none; leftover {@code .partial} folders never
 * match {@code step-<n>} and are removed by the next write.
 *
 * <p>{@code trainer_state.json} lists every other file of the checkpoint with its size and SHA-256.
 * A checkpoint whose state file is missing or unreadable, or whose files are missing, truncated or
 * altered, is corrupt: {@link #readLatest} skips it with a warning and falls back to the next older
 * one; it is never loaded.
 */
public final class Checkpoints {

  /** Marks a complete checkpoint. */
  public static final String STATE_FILE = "trainer_state.json";

  /** Version of the {@link #STATE_FILE} layout; 2 added the file manifest. */
  static final int FORMAT = 2;

  private static final String OPTIMIZER_FILE = "optimizer.safetensors";
  private static final String PARTIAL_SUFFIX = ".partial";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);

  private Checkpoints() {}

  /**
   * Writes the checkpoint of optimizer step {@code step} and keeps only the newest {@code keepLast}
   * complete checkpoints. Checkpoints of later steps (left by another run, or corrupt ones skipped
   * on resume) are deleted: this run is recomputing those steps.
   *
   * @return the checkpoint folder
   */
  public static Path write(
      Path root, long step, LoraAdapter adapter, AdamW optimizer, String baseModel, int keepLast)
      throws IOException {
    return write(root, step, adapter, optimizer, null, baseModel, keepLast);
  }

  /**
   * Writes the checkpoint of optimizer step {@code step} of a run that may use fp16 loss scaling
   * ({@code scaler} null in fp32) and keeps only the newest {@code keepLast} complete checkpoints.
   *
   * @return the checkpoint folder
   */
  public static Path write(
      Path root,
      long step,
      LoraAdapter adapter,
      AdamW optimizer,
      GradScaler scaler,
      String baseModel,
      int keepLast)
      throws IOException {
    return write(
        root,
        step,
        PeftAdapter.WEIGHTS_FILE,
        dir -> PeftAdapter.export(adapter, dir, baseModel),
        optimizer,
        scaler,
        keepLast);
  }

  /**
   * The newest checkpoint under {@code root} that is complete and intact, if any; corrupt ones are
   * skipped with a warning.
   */
  public static Optional<Path> latest(Path root) throws IOException {
    List<Path> complete = complete(root);
    for (int i = complete.size() - 1; i >= 0; i--) {
      try {
        verify(complete.get(i), null);
        return Optional.of(complete.get(i));
      } catch (CorruptCheckpointException e) {
        warnSkipped(e);
      }
    }
    return Optional.empty();
  }

  /**
   * The state of the newest intact checkpoint under {@code root}, for {@code optResume}. Corrupt
   * checkpoints (see the class comment) are skipped with a warning and never loaded.
   *
   * @throws IOException when an intact checkpoint does not fit {@code adapter} (another LoRA
   *     config), or on an I/O error
   */
  public static Optional<ResumeState> readLatest(Path root, LoraAdapter adapter)
      throws IOException {
    return readLatest(root, dir -> read(dir, adapter));
  }

  /** Reads one checkpoint folder; {@link #readLatest(Path, Reader)} tries them newest first. */
  @FunctionalInterface
  public interface Reader {
    /**
     * Reads the checkpoint in {@code dir}.
     *
     * @throws CorruptCheckpointException when it is incomplete or damaged (skipped)
     * @throws IOException when it does not fit this run (an error), or on an I/O error
     */
    ResumeState read(Path dir) throws IOException;
  }

  /**
   * The state of the newest intact checkpoint under {@code root}, read by {@code reader}. Corrupt
   * checkpoints (see the class comment) are skipped with a warning and never loaded.
   */
  public static Optional<ResumeState> readLatest(Path root, Reader reader) throws IOException {
    List<Path> complete = complete(root);
    for (int i = complete.size() - 1; i >= 0; i--) {
      Path dir = complete.get(i);
      try {
        ResumeState state = reader.read(dir);
        LOG.info("resuming from {} (step {})", dir, state.step());
        return Optional.of(state);
      } catch (CorruptCheckpointException e) {
        warnSkipped(e);
      }
    }
    return Optional.empty();
  }

  /**
   * Reads a checkpoint written by {@link #write} for {@code optResume}, after checking every file
   * against the manifest.
   *
   * @throws CorruptCheckpointException when the checkpoint is incomplete or damaged
   * @throws IOException when it does not fit {@code adapter}
   */
  public static ResumeState read(Path dir, LoraAdapter adapter) throws IOException {
    return read(dir, PeftAdapter.WEIGHTS_FILE, sizes(adapter.namedParameters()));
  }

  /**
   * Checks that {@code dir} holds a readable state file and every file it lists, with the listed
   * size and SHA-256, among them the optimizer state and {@code weightsFile} (null: the weights
   * file the state file names).
   *
   * @return the parsed state file
   * @throws CorruptCheckpointException when it does not
   */
  static JsonNode verify(Path dir, String weightsFile) throws IOException {
    JsonNode state;
    try {
      state = JSON.readTree(dir.resolve(STATE_FILE).toFile());
    } catch (NoSuchFileException | FileNotFoundException e) {
      throw new CorruptCheckpointException(dir, STATE_FILE + " is missing", e);
    } catch (JsonProcessingException e) {
      throw new CorruptCheckpointException(
          dir, STATE_FILE + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (state == null || !state.path("step").canConvertToLong()) {
      throw new CorruptCheckpointException(dir, STATE_FILE + " has no step");
    }
    JsonNode files = state.path("files");
    if (!files.isObject() || files.isEmpty()) {
      throw new CorruptCheckpointException(
          dir, STATE_FILE + " lists no files (written by an older trainer or damaged)");
    }
    for (Map.Entry<String, JsonNode> f : files.properties()) {
      Path file = dir.resolve(f.getKey()).normalize();
      if (!file.getParent().equals(dir.normalize()) || !Files.isRegularFile(file)) {
        throw new CorruptCheckpointException(dir, f.getKey() + " is missing");
      }
      long size = Files.size(file);
      long expectedSize = f.getValue().path("size").asLong(-1);
      if (size != expectedSize) {
        throw new CorruptCheckpointException(
            dir, f.getKey() + " has " + size + " bytes, " + expectedSize + " were written");
      }
      if (!sha256(file).equals(f.getValue().path("sha256").asText())) {
        throw new CorruptCheckpointException(dir, f.getKey() + " does not match its SHA-256");
      }
    }
    String weights =
        weightsFile != null ? weightsFile : state.path("weights").asText(PeftAdapter.WEIGHTS_FILE);
    for (String required : List.of(weights, OPTIMIZER_FILE)) {
      if (!files.has(required)) {
        throw new CorruptCheckpointException(dir, STATE_FILE + " does not list " + required);
      }
    }
    return state;
  }

  /** A checkpoint that is incomplete or damaged and must not be loaded. */
  public static final class CorruptCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path dir;

    CorruptCheckpointException(Path dir, String what) {
      this(dir, what, null);
    }

    CorruptCheckpointException(Path dir, String what, Throwable cause) {
      super(dir + ": " + what, cause);
      this.dir = dir;
    }

    /** The checkpoint folder. */
    public Path dir() {
      return dir;
    }
  }

  private static void warnSkipped(CorruptCheckpointException e) {
    LOG.warn("skipping corrupt checkpoint {}; trying an older one", e.getMessage());
  }

  private static Map<String, Object> manifest(Path dir) throws IOException {
    Map<String, Object> files = new TreeMap<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        files.put(f.getFileName().toString(), Map.of("size", Files.size(f), "sha256", sha256(f)));
      }
    }
    return files;
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Flushes every file of {@code dir}, then {@code dir} itself, to the disk. */
  private static void syncTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
          c.force(true);
        }
      }
    }
    sync(dir);
  }

  /** Makes renames and deletions in {@code dir} durable (Linux allows fsync on a folder). */
  private static void sync(Path dir) throws IOException {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException e) {
      // Some file systems refuse to open folders for fsync; the rename is still atomic.
      LOG.debug("cannot fsync folder {}: {}", dir, e.toString());
    }
  }

  private static void deletePartials(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith(".step-") && name.endsWith(PARTIAL_SUFFIX)) {
          LOG.debug("deleting {}, left by a write or deletion that did not finish", p);
          deleteTree(p);
        }
      }
    }
  }

  /**
   * Deletes a checkpoint by renaming it out of the {@code step-<n>} namespace first, so that a kill
   * in the middle of the deletion leaves a leftover for {@link #deletePartials}, not a half-deleted
   * checkpoint.
   */
  private static void retire(Path root, Path checkpoint) throws IOException {
    Path doomed = root.resolve("." + checkpoint.getFileName() + ".deleted" + PARTIAL_SUFFIX);
    deleteTree(doomed);
    Files.move(checkpoint, doomed, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(doomed);
  }

  /** Writes the trainable weights of a checkpoint into its folder. */
  @FunctionalInterface
  public interface WeightsWriter {
    /** Writes the weights into {@code dir}, which exists. */
    void write(Path dir) throws IOException;
  }

  /**
   * Writes the checkpoint of optimizer step {@code step} of any method: {@code weights} writes the
   * trainable tensors into {@code weightsFile} (a PEFT adapter for LoRA and QLoRA, the trained
   * tensors for full and partial fine-tuning); the optimizer moments, the loss-scaler state of an
   * fp16 run ({@code scaler} null in fp32) and the file manifest are added here. The folder is
   * written under a temporary name, synced, then renamed; only the newest {@code keepLast} complete
   * checkpoints are kept, and checkpoints of later steps are deleted (this run recomputes them).
   *
   * @return the checkpoint folder
   */
  public static Path write(
      Path root,
      long step,
      String weightsFile,
      WeightsWriter weights,
      AdamW optimizer,
      GradScaler scaler,
      int keepLast)
      throws IOException {
    Path dir = root.resolve("step-" + step);
    Path tmp = root.resolve(".step-" + step + PARTIAL_SUFFIX);
    Files.createDirectories(root);
    deletePartials(root);
    Files.createDirectories(tmp);
    weights.write(tmp);
    if (!Files.isRegularFile(tmp.resolve(weightsFile))) {
      throw new IOException("the checkpoint's weights were not written to " + weightsFile);
    }
    SafetensorsWriter w = new SafetensorsWriter();
    List<NDArray> m = optimizer.expAvg();
    List<NDArray> v = optimizer.expAvgSq();
    for (int i = 0; i < m.size(); i++) {
      w.add("exp_avg." + i, m.get(i), DType.F32);
      w.add("exp_avg_sq." + i, v.get(i), DType.F32);
    }
    w.write(tmp.resolve(OPTIMIZER_FILE));
    PausePoints.reached(PausePoints.CHECKPOINT_WRITE, step, () -> false);
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("step", step);
    state.put("optimizerSteps", optimizer.steps());
    state.put("parameters", m.size());
    if (scaler != null) {
      GradScaler.State s = scaler.state();
      state.put(
          "lossScaler",
          Map.of(
              "scale", s.scale(),
              "growthTracker", s.growthTracker(),
              "skippedSteps", s.skippedSteps()));
    }
    state.put("weights", weightsFile);
    state.put("format", FORMAT);
    state.put("files", manifest(tmp));
    JSON.writeValue(tmp.resolve(STATE_FILE).toFile(), state);
    syncTree(tmp);
    if (Files.exists(dir)) {
      retire(root, dir); // a damaged checkpoint of this step, skipped on resume
    }
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    sync(root);
    for (Path later : complete(root)) {
      if (stepOf(later) > step) {
        LOG.info("deleting {}: this run recomputes step {}", later, stepOf(later));
        retire(root, later);
      }
    }
    if (keepLast > 0) {
      List<Path> complete = complete(root);
      for (int i = 0; i < complete.size() - keepLast; i++) {
        retire(root, complete.get(i));
      }
    }
    PausePoints.reached(PausePoints.CHECKPOINT_WRITTEN, step, () -> false);
    return dir;
  }

  /**
   * Reads a checkpoint written by {@link #write(Path, long, String, WeightsWriter, AdamW,
   * GradScaler, int)} whose trainable tensors, in training order, are named and sized by {@code
   * sizes}, after checking every file against the manifest.
   *
   * @throws CorruptCheckpointException when the checkpoint is incomplete or damaged
   * @throws IOException when it does not fit the trainable tensors (another method or config)
   */
  public static ResumeState read(Path dir, String weightsFile, Map<String, Long> sizes)
      throws IOException {
    JsonNode state = verify(dir, weightsFile);
    long step = state.get("step").asLong();
    JsonNode ls = state.get("lossScaler");
    GradScaler.State scaler =
        ls == null
            ? null
            : new GradScaler.State(
                (float) ls.get("scale").asDouble(),
                ls.get("growthTracker").asInt(),
                ls.get("skippedSteps").asLong());
    List<float[]> params = new ArrayList<>();
    List<float[]> expAvg = new ArrayList<>();
    List<float[]> expAvgSq = new ArrayList<>();
    try (SafetensorsFile weights = SafetensorsFile.open(dir.resolve(weightsFile));
        SafetensorsFile opt = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
      int i = 0;
      for (Map.Entry<String, Long> e : sizes.entrySet()) {
        String name = e.getKey();
        if (!weights.contains(name) || !opt.contains("exp_avg." + i)) {
          throw new IOException(
              dir
                  + " does not match the trainable weights of this run (no "
                  + name
                  + "); set checkpointing.resume=Never");
        }
        float[] p = weights.readFloats(name);
        if (p.length != e.getValue()) {
          throw new IOException(
              dir
                  + " does not match the trainable weights of this run ("
                  + name
                  + " has "
                  + p.length
                  + " values, this run "
                  + e.getValue()
                  + "); set checkpointing.resume=Never");
        }
        params.add(p);
        expAvg.add(opt.readFloats("exp_avg." + i));
        expAvgSq.add(opt.readFloats("exp_avg_sq." + i));
        i++;
      }
    } catch (SafetensorsException e) {
      // The manifest matched, so the file was written this way: still, never load it.
      throw new CorruptCheckpointException(dir, e.getMessage(), e);
    }
    return new ResumeState(step, params, expAvg, expAvgSq, scaler);
  }

  /** The sizes of the arrays, by name, in order. */
  public static Map<String, Long> sizes(Map<String, NDArray> arrays) {
    Map<String, Long> sizes = new LinkedHashMap<>();
    arrays.forEach((name, a) -> sizes.put(name, a.size()));
    return sizes;
  }

  private static List<Path> complete(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      // Without a state file a step-<n> folder is damaged (renames only publish whole folders):
      // it is listed so that loading it fails with a warning instead of passing in silence.
      return s.filter(p -> p.getFileName().toString().matches("step-\\d+"))
          .filter(Files::isDirectory)
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
