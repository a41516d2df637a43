package io.kubetune.trainer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Python reference (torch, transformers, PEFT from {@code bench/pyref}) on a script under
 * {@code src/test/python}: JSON in, JSON out. Interop tests fail, rather than skip, when the
 * reference cannot run, so a broken reference never passes silently.
 */
public final class ReferencePython {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path python;

  private ReferencePython() {}

  /** The module folder ({@code trainer-image}), found from the working directory. */
  public static Path moduleDir() {
    Path dir = Path.of("").toAbsolutePath();
    if (Files.isDirectory(dir.resolve("src/test/python"))) {
      return dir;
    }
    if (Files.isDirectory(dir.resolve("trainer-image/src/test/python"))) {
      return dir.resolve("trainer-image");
    }
    throw new IllegalStateException(
        "run the tests from the trainer-image module (cwd " + dir + ")");
  }

  /** The reference interpreter, created on first use by {@code bench/pyref/ensure-env.sh}. */
  public static synchronized Path python() throws IOException, InterruptedException {
    if (python == null) {
      Path script = moduleDir().resolveSibling("bench/pyref/ensure-env.sh");
      Process p =
          new ProcessBuilder("bash", script.toString())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0 || out.isEmpty()) {
        throw new IllegalStateException(
            "bench/pyref/ensure-env.sh failed (exit " + p.exitValue() + ")");
      }
      String[] lines = out.split("\n");
      python = Path.of(lines[lines.length - 1].trim());
    }
    return python;
  }

  /**
   * Runs {@code src/test/python/<script>} with the input document and returns its output document.
   *
   * @param script file name under {@code src/test/python}
   * @param input serialised with Jackson to the script's first argument
   * @param args extra arguments after the input and output paths
   */
  public static JsonNode run(String script, Object input, String... args)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("pyref");
    Path in = dir.resolve("in.json");
    Path out = dir.resolve("out.json");
    JSON.writeValue(in.toFile(), input);
    List<String> cmd = new ArrayList<>();
    cmd.add(python().toString());
    cmd.add(moduleDir().resolve("src/test/python").resolve(script).toString());
    cmd.add(in.toString());
    cmd.add(out.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    // The reference must see the same threads-independent, offline world as the tests.
    pb.environment().put("HF_HUB_OFFLINE", "1");
    pb.environment().put("TRANSFORMERS_OFFLINE", "1");
    Process p = pb.start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(script + " failed:\n" + log);
    }
    return JSON.readTree(out.toFile());
  }
}
