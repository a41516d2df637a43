package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.trainer.cli.StopSignal;
import io.kubetune.trainer.cli.TrainerMain;
import io.kubetune.trainer.cli.TrainerServices;
import io.kubetune.trainer.cli.TrainingRunner;
import io.kubetune.trainer.report.KubernetesEnvironment;
import io.kubetune.trainer.report.TerminationMessage;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.testing.TinyModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Runs {@code kubetune-trainer} in-process with the production implementations, a local model
 * folder and captured streams; plus the fixtures of the end-to-end tests (a tiny model, a learnable
 * chat dataset, a training config).
 */
final class CliRun {
  /** What every training conversation is answered with; the adapter must learn it. */
  static final String ANSWER = "hello world .";

  private static final ObjectMapper JSON = new ObjectMapper();

  final int exitCode;
  final String stdout;
  final String stderr;
  final String termination;

  private CliRun(int exitCode, String stdout, String stderr, String termination) {
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
    this.termination = termination;
  }

  /** Runs the command line. */
  static CliRun run(Path work, String... args) throws IOException {
    return run(work, new StopSignal(), line -> {}, args);
  }

  /**
   * Runs the command line; {@code onLine} sees every stdout line as it is printed (to request a
   * stop at a given step, as SIGTERM would).
   */
  static CliRun run(Path work, StopSignal stop, Consumer<String> onLine, String... args)
      throws IOException {
    return run(work, new FineTuningRunner(), stop, onLine, args);
  }

  /** Runs the command line with a given {@code train} implementation. */
  static CliRun run(
      Path work, TrainingRunner runner, StopSignal stop, Consumer<String> onLine, String... args)
      throws IOException {
    Path termination = Files.createTempFile(work, "termination", ".log");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    TrainerServices services =
        new TrainerServices(
            runner,
            new DatasetCheck(),
            new ModelGeneration(),
            new AdapterEvaluation(),
            // A folder URI needs neither network nor environment.
            (baseModel, scope) -> Path.of(baseModel.uri()),
            new KubernetesEnvironment(Map.of(), work.resolve("no-service-account"), "http"),
            new TerminationMessage(termination),
            stop,
            new PrintStream(new LineTap(out, onLine), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    int code = TrainerMain.run(services, args);
    return new CliRun(
        code,
        out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8),
        Files.readString(termination));
  }

  /** The progress documents printed on stdout, in order. */
  List<TrainerProgress> progress() {
    List<TrainerProgress> docs = new ArrayList<>();
    for (String line : stdout.lines().toList()) {
      if (line.startsWith("{") && line.contains("\"stage\"")) {
        docs.add(Contract.read(line, TrainerProgress.class));
      }
    }
    return docs;
  }

  /** A tiny seeded Llama with the ChatML word-level tokenizer. */
  static Path tinyModel(Path dir) throws IOException {
    return TinyModels.llama().seed(11).write(dir);
  }

  /** Chat lines whose assistant always answers {@link #ANSWER}; questions vary by seed. */
  static Path chatData(Path file, int examples, long seed) throws IOException {
    Random r = new Random(seed);
    List<String> words = TinyModels.WORDS.subList(3, 40);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < examples; i++) {
      StringBuilder q = new StringBuilder();
      int len = 3 + r.nextInt(4);
      for (int w = 0; w < len; w++) {
        q.append(w == 0 ? "" : " ").append(words.get(r.nextInt(words.size())));
      }
      ObjectNode line = JSON.createObjectNode();
      var messages = line.putArray("messages");
      messages.addObject().put("role", "user").put("content", q.toString());
      messages.addObject().put("role", "assistant").put("content", ANSWER);
      sb.append(JSON.writeValueAsString(line)).append('\n');
    }
    return Files.writeString(file, sb.toString());
  }

  /** A LoRA training config for the tiny model and chat data, with outputs under {@code out}. */
  static ObjectNode trainConfig(Path model, Path train, Path valid, Path out) {
    ObjectNode root = JSON.createObjectNode();
    root.put("jobName", "tiny-chat");
    root.putObject("baseModel").put("uri", model.toString());
    ObjectNode ds = root.putObject("dataset");
    ds.put("train", train.toString());
    ds.put("validation", valid.toString());
    ds.put("format", "chat");
    ds.put("minExamples", 4);
    ObjectNode m = root.putObject("method");
    m.put("type", "lora");
    m.put("rank", 8);
    m.put("alpha", 16.0);
    m.put("dropout", 0.0);
    m.putArray("targetModules").add("all-linear");
    ObjectNode h = root.putObject("hyperparameters");
    h.put("maxSteps", 30);
    h.put("batchSize", 4);
    h.put("learningRate", 0.01);
    h.put("lrScheduler", "constant");
    h.put("maxSeqLength", 64);
    h.put("seed", 7);
    h.put("evalEverySteps", 10);
    ObjectNode o = root.putObject("output");
    o.put("adapterDir", out.resolve("adapter").toString());
    o.put("checkpointDir", out.resolve("checkpoints").toString());
    ObjectNode ck = root.putObject("checkpointing");
    ck.put("everySteps", 10);
    ck.put("keepLast", 2);
    ck.put("resume", "Auto");
    return root;
  }

  /** Writes a config file. */
  static Path write(Path file, ObjectNode config) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, config.toPrettyString());
  }

  /** Every tensor of a safetensors file, by name. */
  static Map<String, float[]> tensors(Path file) throws IOException {
    Map<String, float[]> out = new TreeMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String name : f.tensors().keySet()) {
        out.put(name, f.readFloats(name));
      }
    }
    return out;
  }

  /**
   * The largest absolute difference between two sets of tensors, which must hold the same names and
   * shapes.
   */
  static double maxAbsDiff(Map<String, float[]> expected, Map<String, float[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    double maxDiff = 0;
    for (Map.Entry<String, float[]> e : expected.entrySet()) {
      float[] a = e.getValue();
      float[] b = actual.get(e.getKey());
      assertEquals(a.length, b.length, e.getKey());
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
      }
    }
    return maxDiff;
  }

  /** Passes bytes through and hands every completed line to a callback. */
  private static final class LineTap extends OutputStream {
    private final OutputStream target;
    private final Consumer<String> onLine;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineTap(OutputStream target, Consumer<String> onLine) {
      this.target = target;
      this.onLine = onLine;
    }

    @Override
    public synchronized void write(int b) throws IOException {
      target.write(b);
      if (b == '\n') {
        onLine.accept(line.toString(StandardCharsets.UTF_8));
        line.reset();
      } else {
        line.write(b);
      }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      for (int i = off; i < off + len; i++) {
        write(b[i]);
      }
    }
  }
}
