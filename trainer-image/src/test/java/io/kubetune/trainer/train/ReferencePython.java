package io.kubetune.trainer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.testing.PythonReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a script of the Python reference ({@link PythonReference}) with a JSON document in and a
 * JSON document out, for the training interop tests whose inputs are too large for arguments.
 */
public final class ReferencePython {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ReferencePython() {}

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
    cmd.add(PythonReference.python().toString());
    cmd.add(PythonReference.moduleDir().resolve("src/test/python").resolve(script).toString());
    cmd.add(in.toString());
    cmd.add(out.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    // No hub: the reference must only see what the test wrote.
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
