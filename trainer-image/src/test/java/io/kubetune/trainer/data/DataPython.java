package io.kubetune.trainer.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs this package's Python reference scripts ({@code src/test/python/data_*.py}) with the
 * interpreter that {@code bench/pyref/ensure-env.sh} provides (transformers, tokenizers). Interop
 * tests fail, rather than skip, when the reference cannot run, so CI cannot pass without it.
 */
final class DataPython {
  private static Path python;

  private DataPython() {}

  /** Runs a script with arguments and returns its standard output. */
  static String run(String script, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(python().toString());
    command.add(scripts().resolve(script).toString());
    command.addAll(List.of(args));
    return exec(command);
  }

  private static synchronized Path python() throws IOException, InterruptedException {
    if (python == null) {
      Path ensure = repoRoot().resolve("bench/pyref/ensure-env.sh");
      String out = exec(List.of("bash", ensure.toString())).strip();
      String[] lines = out.split("\n");
      python = Path.of(lines[lines.length - 1].strip());
    }
    return python;
  }

  private static Path scripts() {
    Path module = Path.of("").toAbsolutePath();
    Path here = module.resolve("src/test/python");
    if (Files.isDirectory(here)) {
      return here;
    }
    return repoRoot().resolve("trainer-image/src/test/python");
  }

  private static Path repoRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("bench/pyref/ensure-env.sh"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "bench/pyref/ensure-env.sh not found above the working directory");
  }

  private static String exec(List<String> command) throws IOException, InterruptedException {
    Path err = Files.createTempFile("data-python", ".err");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      // A generous bound only so that a hung interpreter cannot hang the build forever.
      if (!p.waitFor(30, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + command);
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            "command failed ("
                + p.exitValue()
                + "): "
                + command
                + "\n"
                + Files.readString(err, StandardCharsets.UTF_8));
      }
      return new String(out, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
