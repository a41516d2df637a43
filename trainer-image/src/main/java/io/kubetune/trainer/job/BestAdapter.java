package io.kubetune.trainer.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.contract.EvalMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The trainable weights (an adapter, or the tensors full and partial fine-tuning train) with the
 * lowest validation loss so far, kept on disk in {@code <checkpointDir>/best/} ({@code best.json}
 * written last).
 *
 * <p>The training loop keeps its best weights in memory only, so a run that resumes after a stop
 * would forget an evaluation from before the stop that beats every later one. The runner saves each
 * new best here and, at the end of a resumed run, exports it when it is still the best.
 */
final class BestAdapter {
  static final String DIR = "best";
  static final String STATE = "best.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private long step;
  private EvalMetrics metrics;

  private BestAdapter(Path dir, long step, EvalMetrics metrics) {
    this.dir = dir;
    this.step = step;
    this.metrics = metrics;
  }

  /** Forgets any best of an earlier run: a fresh start must not export another run's weights. */
  static BestAdapter fresh(Path checkpointDir) throws IOException {
    Path dir = checkpointDir.resolve(DIR);
    deleteTree(dir);
    deleteTree(previous(dir));
    return new BestAdapter(dir, -1, null);
  }

  /** The best saved before the checkpoint being resumed from, if any. */
  static BestAdapter resumed(Path checkpointDir, long resumeStep) throws IOException {
    Path dir = checkpointDir.resolve(DIR);
    if (!Files.exists(dir) && Files.isRegularFile(previous(dir).resolve(STATE))) {
      Files.move(previous(dir), dir, StandardCopyOption.ATOMIC_MOVE);
    }
    Path state = dir.resolve(STATE);
    if (!Files.isRegularFile(state)) {
      return new BestAdapter(dir, -1, null);
    }
    JsonNode n = JSON.readTree(state.toFile());
    long step = n.path("step").asLong(-1);
    if (step < 0 || step > resumeStep) {
      // Saved after the checkpoint: the resumed run recomputes that part.
      deleteTree(dir);
      return new BestAdapter(dir, -1, null);
    }
    return new BestAdapter(
        dir,
        step,
        new EvalMetrics(n.path("validLoss").asDouble(), n.path("validTokenAccuracy").asDouble()));
  }

  /** The best evaluation on disk, or null. */
  EvalMetrics metrics() {
    return metrics;
  }

  /** The step of the best evaluation on disk, or -1. */
  long step() {
    return step;
  }

  /** Saves the method's current weights when {@code eval} beats the best on disk. */
  void offer(long atStep, EvalMetrics eval, TrainingMethod method, String baseModel)
      throws IOException {
    if (eval == null || (metrics != null && !(eval.validLoss() < metrics.validLoss()))) {
      return;
    }
    Path tmp = dir.resolveSibling("." + DIR + ".partial");
    deleteTree(tmp);
    method.saveWeights(tmp, baseModel);
    JSON.writeValue(
        tmp.resolve(STATE).toFile(),
        Map.of(
            "step", atStep,
            "validLoss", eval.validLoss(),
            "validTokenAccuracy", eval.validTokenAccuracy()));
    // Move the old best aside rather than deleting it first: a kill between the two renames
    // leaves it in .best.old, where resumed() finds it again.
    Path old = previous(dir);
    deleteTree(old);
    if (Files.exists(dir)) {
      Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(old);
    step = atStep;
    metrics = eval;
  }

  /** Puts the saved weights into the method's arrays. */
  void restoreInto(TrainingMethod method) throws IOException {
    method.loadWeights(dir);
  }

  private static Path previous(Path dir) {
    return dir.resolveSibling("." + DIR + ".old");
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
