package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.trainer.cli.GracefulShutdown;
import io.kubetune.trainer.cli.TrainerMain;
import io.kubetune.trainer.export.Checkpoints;
import io.kubetune.trainer.export.PausePoints;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.report.TerminationMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills real trainer processes ({@code java ... TrainerMain train --config ...}) with SIGKILL and
 * SIGTERM at exact points and restarts them with the same config until they finish: the adapter
 * must equal the one of an uninterrupted run (max abs difference at most 1e-6), and a half-written
 * or damaged checkpoint must never be loaded.
 *
 * <p>The kill points are made exact by {@link PausePoints}: the child announces on stderr that it
 * has paused at {@code <point>@<step>} and waits there until the test kills it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerProcessResumeTest {
  private static final long STEPS = 12;
  private static final double TOLERANCE = 1e-6;

  /** Generous: the machine running the tests may be heavily loaded; no assertion is on time. */
  private static final long PROCESS_TIMEOUT_SECONDS = 600;

  @TempDir static Path dir;
  private Path model;
  private Path train;
  private Path valid;
  private Path referenceCheckpoints;
  private Map<String, float[]> reference;

  @BeforeAll
  void oneUninterruptedRun() throws Exception {
    model = CliRun.tinyModel(dir.resolve("model"));
    train = CliRun.chatData(dir.resolve("train.jsonl"), 24, 1);
    valid = CliRun.chatData(dir.resolve("valid.jsonl"), 6, 2);
    // Keeps every checkpoint, for the damaged-checkpoint test to start from.
    try (Trainer run = Trainer.start(config("reference", 100), null)) {
      assertEquals(0, run.awaitExit(), run.stderr());
    }
    reference = adapter("reference");
    referenceCheckpoints = dir.resolve("reference/checkpoints");
    assertEquals(
        List.of("best", "step-10", "step-2", "step-4", "step-6", "step-8"),
        names(referenceCheckpoints));
  }

  @Test
  void sigkillAtSeveralPointsThenRestartsEndWithTheUninterruptedAdapter() throws Exception {
    Path config = config("killed", 2);
    Path checkpoints = dir.resolve("killed/checkpoints");

    // Right after the first checkpoint was committed.
    try (Trainer run = Trainer.start(config, PausePoints.CHECKPOINT_WRITTEN + "@2")) {
      run.awaitPause();
      assertTrue(
          Files.isRegularFile(checkpoints.resolve("step-2").resolve(Checkpoints.STATE_FILE)));
      assertEquals(137, run.kill());
    }

    // Between two checkpoints.
    try (Trainer run = Trainer.start(config, PausePoints.AFTER_STEP + "@5")) {
      run.awaitPause();
      assertEquals(3L, run.stepsReported().get(0), "resumed after step 2");
      assertEquals(List.of("best", "step-2", "step-4"), names(checkpoints));
      assertEquals(137, run.kill());
    }

    // While the checkpoint of step 6 is being written: its files exist, unpublished.
    Path partial = checkpoints.resolve(".step-6.partial");
    try (Trainer run = Trainer.start(config, PausePoints.CHECKPOINT_WRITE + "@6")) {
      run.awaitPause();
      assertTrue(run.stderr().contains("resuming from " + checkpoints.resolve("step-4")));
      assertTrue(Files.isRegularFile(partial.resolve(PeftAdapter.WEIGHTS_FILE)));
      assertTrue(Files.isRegularFile(partial.resolve("optimizer.safetensors")));
      assertFalse(Files.exists(checkpoints.resolve("step-6")));
      assertEquals(137, run.kill());
    }
    assertTrue(Files.isDirectory(partial), "the kill left a half-written checkpoint behind");

    try (Trainer run = Trainer.start(config, null)) {
      assertEquals(0, run.awaitExit(), run.stderr());
      // The half-written step 6 is never loaded: the run continues from step 4.
      assertTrue(run.stderr().contains("resuming from " + checkpoints.resolve("step-4")));
      assertFalse(run.stderr().contains("resuming from " + checkpoints.resolve("step-6")));
      assertEquals(5L, run.stepsReported().get(0));
      assertEquals(STEPS, run.stepsReported().get(run.stepsReported().size() - 1));
    }
    assertFalse(Files.exists(partial), "the next write removes what a killed one left");
    assertEquals(List.of("best", "step-10", "step-8"), names(checkpoints), "keepLast 2");
    assertSameAdapter("sigkill at 3 points", adapter("killed"));
  }

  @Test
  void sigtermCheckpointsTheCurrentStepExits143AndTheRestartResumesFromIt() throws Exception {
    Path config = config("stopped", 2);
    Path checkpoints = dir.resolve("stopped/checkpoints");

    try (Trainer run = Trainer.start(config, PausePoints.AFTER_STEP + "@5")) {
      run.awaitPause();
      assertEquals(143, run.terminate(), run.stderr());
      // Step 5 is not on the every-2-steps schedule: SIGTERM wrote it.
      assertTrue(
          Files.isRegularFile(checkpoints.resolve("step-5").resolve(Checkpoints.STATE_FILE)));
      assertEquals(List.of("best", "step-4", "step-5"), names(checkpoints));
      TrainerResult stopped = Contract.read(run.termination(), TrainerResult.class);
      assertFalse(stopped.succeeded());
      assertNull(stopped.failure(), "a stop on request is not a failure");
      assertFalse(Files.exists(dir.resolve("stopped/adapter").resolve(PeftAdapter.WEIGHTS_FILE)));
    }

    try (Trainer run = Trainer.start(config, null)) {
      assertEquals(0, run.awaitExit(), run.stderr());
      assertTrue(run.stderr().contains("resuming from " + checkpoints.resolve("step-5")));
      assertEquals(6L, run.stepsReported().get(0));
    }
    assertSameAdapter("sigterm at step 5", adapter("stopped"));
  }

  @Test
  void damagedCheckpointsAreSkippedWithAWarningAndTheNewestIntactOneIsUsed() throws Exception {
    Path checkpoints = dir.resolve("damaged/checkpoints");
    copyTree(referenceCheckpoints, checkpoints);
    truncate(checkpoints.resolve("step-10").resolve(PeftAdapter.WEIGHTS_FILE));
    Files.delete(checkpoints.resolve("step-8/optimizer.safetensors"));
    Files.writeString(
        checkpoints.resolve("step-6").resolve(Checkpoints.STATE_FILE), "{\"step\": 6,");

    try (Trainer run = Trainer.start(config("damaged", 100), null)) {
      assertEquals(0, run.awaitExit(), run.stderr());
      String log = run.stderr();
      for (String damaged : List.of("step-10", "step-8", "step-6")) {
        String warning = "skipping corrupt checkpoint " + checkpoints.resolve(damaged) + ":";
        assertTrue(
            log.lines().anyMatch(l -> l.contains("WARN") && l.contains(warning)),
            damaged + " not reported:\n" + log);
        assertFalse(log.contains("resuming from " + checkpoints.resolve(damaged)), log);
      }
      assertTrue(log.contains("resuming from " + checkpoints.resolve("step-4")), log);
      assertEquals(5L, run.stepsReported().get(0));
    }
    assertSameAdapter("damaged 10, 8, 6; resumed from 4", adapter("damaged"));
  }

  private void assertSameAdapter(String what, Map<String, float[]> resumed) {
    double maxDiff = CliRun.maxAbsDiff(reference, resumed);
    System.out.printf("%s: adapter max abs diff vs uninterrupted run %.3g%n", what, maxDiff);
    assertTrue(maxDiff <= TOLERANCE, what + ": max abs diff " + maxDiff);
  }

  /**
   * The training config of one run under {@code dir/<name>}: dropout, warm-up + cosine schedule,
   * shuffling and gradient accumulation, so the restored RNG, data position, optimizer and schedule
   * all matter.
   */
  private Path config(String name, int keepLast) throws IOException {
    Path out = dir.resolve(name);
    ObjectNode cfg = CliRun.trainConfig(model, train, valid, out);
    ((ObjectNode) cfg.get("method")).put("dropout", 0.1);
    ObjectNode h = (ObjectNode) cfg.get("hyperparameters");
    h.put("maxSteps", STEPS);
    h.put("batchSize", 4);
    h.put("gradientAccumulationSteps", 2);
    h.put("lrScheduler", "cosine");
    h.put("warmupRatio", 0.2);
    h.put("evalEverySteps", 4);
    ObjectNode ck = (ObjectNode) cfg.get("checkpointing");
    ck.put("everySteps", 2);
    ck.put("keepLast", keepLast);
    return CliRun.write(out.resolve("job.json"), cfg);
  }

  private Map<String, float[]> adapter(String run) throws IOException {
    return CliRun.tensors(dir.resolve(run).resolve("adapter").resolve(PeftAdapter.WEIGHTS_FILE));
  }

  private static List<String> names(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  private static void truncate(Path file) throws IOException {
    long size = Files.size(file);
    try (var c = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
      c.truncate(size / 2);
    }
  }

  /** A trainer CLI in its own JVM, with its stdout and stderr read as they come. */
  private static final class Trainer implements AutoCloseable {
    private final Process process;
    private final Path termination;
    private final List<String> out = Collections.synchronizedList(new ArrayList<>());
    private final List<String> err = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch paused = new CountDownLatch(1);
    private final Thread outReader;
    private final Thread errReader;
    private final long started = System.nanoTime();
    private final String pauseAt;

    private Trainer(Process process, Path termination, String pauseAt) {
      this.process = process;
      this.pauseAt = pauseAt;
      this.termination = termination;
      this.outReader = drain(process.getInputStream(), out, "stdout");
      this.errReader = drain(process.getErrorStream(), err, "stderr");
    }

    /** Starts {@code train --config config}, pausing at {@code pauseAt} when not null. */
    static Trainer start(Path config, String pauseAt) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      // A short-lived child: quick start-up and little memory matter more than peak speed.
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-XX:TieredStopAtLevel=1");
      cmd.add("-Xmx512m");
      cmd.add("-Dai.djl.offline=true");
      // One libtorch thread: on a shared, oversubscribed machine a thread pool per child makes
      // training several times slower; every run uses the same setting, so results compare.
      cmd.add("-Dai.djl.pytorch.num_threads=1");
      cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
      if (pauseAt != null) {
        cmd.add("-D" + PausePoints.PROPERTY + "=" + pauseAt);
      }
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(TrainerMain.class.getName());
      cmd.add("train");
      cmd.add("--config");
      cmd.add(config.toString());
      Path termination = config.resolveSibling("termination-" + System.nanoTime() + ".log");
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().put("DJL_OFFLINE", "true");
      pb.environment().put("OPT_OUT_TRACKING", "true");
      pb.environment().put("OMP_NUM_THREADS", "1");
      pb.environment().put(TerminationMessage.PATH_ENV, termination.toString());
      pb.environment().put(GracefulShutdown.GRACE_ENV, String.valueOf(PROCESS_TIMEOUT_SECONDS));
      return new Trainer(pb.start(), termination, pauseAt);
    }

    private Thread drain(InputStream in, List<String> lines, String name) {
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                    if (line.contains(PausePoints.ANNOUNCEMENT + pauseAt)) {
                      paused.countDown();
                    }
                  }
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              "trainer-" + name);
      t.setDaemon(true);
      t.start();
      return t;
    }

    /** Waits until the trainer announces that it paused; fails if it exits instead. */
    void awaitPause() throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROCESS_TIMEOUT_SECONDS);
      while (!paused.await(100, TimeUnit.MILLISECONDS)) {
        if (!process.isAlive()) {
          errReader.join(10_000);
          fail("the trainer exited with " + process.exitValue() + " before pausing:\n" + stderr());
        }
        if (System.nanoTime() > deadline) {
          fail("the trainer did not pause:\n" + stderr());
        }
      }
    }

    /** SIGKILL; returns the exit status. */
    int kill() throws InterruptedException {
      process.destroyForcibly();
      return awaitExit();
    }

    /** SIGTERM; returns the exit status. */
    int terminate() throws InterruptedException {
      process.destroy();
      return awaitExit();
    }

    int awaitExit() throws InterruptedException {
      if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        fail("the trainer did not exit:\n" + stderr());
      }
      outReader.join(10_000);
      errReader.join(10_000);
      return process.exitValue();
    }

    String stderr() {
      synchronized (err) {
        return String.join("\n", err);
      }
    }

    String termination() throws IOException {
      return Files.readString(termination);
    }

    /** The optimizer steps in the progress JSON lines, in order, without repeats. */
    List<Long> stepsReported() {
      List<String> lines;
      synchronized (out) {
        lines = List.copyOf(out);
      }
      List<Long> steps = new ArrayList<>();
      for (String line : lines) {
        if (line.startsWith("{") && line.contains("\"stage\"")) {
          Long step = Contract.read(line, TrainerProgress.class).step();
          if (step != null && (steps.isEmpty() || !steps.get(steps.size() - 1).equals(step))) {
            steps.add(step);
          }
        }
      }
      return steps;
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
      System.out.printf(
          "trainer process (pause at %s) ran %.1f s%n",
          pauseAt, (System.nanoTime() - started) / 1e9);
    }
  }
}
