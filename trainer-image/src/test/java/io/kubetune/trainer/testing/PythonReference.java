package io.kubetune.trainer.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Python reference implementation (HF transformers + PEFT + safetensors) for interop
 * tests.
 *
 * <p>The virtualenv is made by {@code bench/pyref/ensure-env.sh} once per JVM. When it cannot be
 * made, every interop test fails with the script's output: silently skipping would let CI pass
 * without ever comparing against the reference.
 *
 * <pre>{@code
 * String json = PythonReference.runOk("model_reference.py", Duration.ofMinutes(3), dir.toString());
 * }</pre>
 */
public final class PythonReference {

  /** Time allowed for creating the environment on a cold machine (pip installs torch). */
  private static final Duration ENV_TIMEOUT = Duration.ofMinutes(30);

  private static Path python;
  private static String envFailure;

  private PythonReference() {}

  /** Output of one script run. */
  public record Result(int exitCode, String stdout, String stderr) {}

  /** The python executable of the reference environment, creating the environment if needed. */
  public static synchronized Path python() {
    if (python != null) {
      return python;
    }
    if (envFailure != null) {
      throw new AssertionError(envFailure);
    }
    Path script = moduleDir().getParent().resolve("bench/pyref/ensure-env.sh");
    if (!Files.isRegularFile(script)) {
      envFailure = "Python reference: " + script + " not found; run the tests from the repository";
      throw new AssertionError(envFailure);
    }
    try {
      Result r = exec(List.of("bash", script.toString()), ENV_TIMEOUT, moduleDir());
      String out = r.stdout().strip();
      String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1).strip();
      if (r.exitCode() != 0 || last.isEmpty() || !Files.isExecutable(Path.of(last))) {
        envFailure =
            "Python reference environment could not be created by "
                + script
                + " (exit "
                + r.exitCode()
                + "). It needs python3 with venv and the local pip mirror holding the pins in"
                + " bench/pyref/requirements.txt.\nstdout:\n"
                + r.stdout()
                + "\nstderr:\n"
                + tail(r.stderr());
        throw new AssertionError(envFailure);
      }
      python = Path.of(last);
      return python;
    } catch (IOException e) {
      envFailure = "Python reference environment: cannot run " + script + ": " + e;
      throw new AssertionError(envFailure, e);
    }
  }

  /**
   * Runs {@code src/test/python/<script>} with arguments under the reference python.
   *
   * @return exit code and output; the caller decides what a failure means
   */
  public static Result run(String script, Duration timeout, String... args) {
    Path file = moduleDir().resolve("src/test/python").resolve(script);
    if (!Files.isRegularFile(file)) {
      throw new AssertionError("python script not found: " + file);
    }
    List<String> command = new ArrayList<>();
    command.add(python().toString());
    command.add(file.toString());
    command.addAll(List.of(args));
    try {
      return exec(command, timeout, moduleDir());
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command + ": " + e, e);
    }
  }

  /** Runs a script and returns its stdout, failing the test with its stderr when it fails. */
  public static String runOk(String script, Duration timeout, String... args) {
    Result r = run(script, timeout, args);
    if (r.exitCode() != 0) {
      throw new AssertionError(
          script + " exited with " + r.exitCode() + "\nstderr:\n" + tail(r.stderr()));
    }
    return r.stdout();
  }

  /** The trainer module directory (surefire's working directory, or found from it). */
  public static Path moduleDir() {
    Path cwd = Path.of("").toAbsolutePath();
    if (Files.isDirectory(cwd.resolve("src/test/python"))) {
      return cwd;
    }
    Path nested = cwd.resolve("trainer-image");
    if (Files.isDirectory(nested.resolve("src/test/python"))) {
      return nested;
    }
    throw new AssertionError("cannot find the trainer module from " + cwd);
  }

  private static Result exec(List<String> command, Duration timeout, Path workDir)
      throws IOException {
    Path out = Files.createTempFile("pyref-out", ".txt");
    Path err = Files.createTempFile("pyref-err", ".txt");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      Map<String, String> env = pb.environment();
      // The reference must never reach a hub: tests build their own tiny models.
      env.put("HF_HUB_OFFLINE", "1");
      env.put("TRANSFORMERS_OFFLINE", "1");
      env.put("HF_DATASETS_OFFLINE", "1");
      env.put("TOKENIZERS_PARALLELISM", "false");
      env.put("PYTHONDONTWRITEBYTECODE", "1");
      env.putIfAbsent("OMP_NUM_THREADS", "2");
      Process p = pb.start();
      boolean done;
      try {
        done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running " + command, e);
      }
      if (!done) {
        p.destroyForcibly();
        throw new AssertionError(
            command + " did not finish within " + timeout + "\nstderr:\n" + tail(read(err)));
      }
      return new Result(p.exitValue(), read(out), read(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  private static String tail(String s) {
    int max = 8000;
    return s.length() <= max ? s : "...\n" + s.substring(s.length() - max);
  }
}
