package io.kubetune.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.AdapterChecks;
import io.kubetune.contract.AdapterChecks.Reasons;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.contract.Contract;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.report.TerminationMessage;
import io.kubetune.trainer.train.ToyLm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check-adapter} on real adapter folders exported by the trainer: the verdict a check pod
 * leaves in its termination message, and its exit code, for a valid adapter and each refusal.
 */
class CheckAdapterCommandTest {
  private static final String MODULES = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";

  @TempDir static Path shared;
  private static Path exported;
  @TempDir Path work;

  /** One real PEFT adapter (rank 4, up_proj) exported by the trainer's own exporter. */
  @BeforeAll
  static void export() throws IOException {
    exported = shared.resolve("adapter");
    try (NDManager m = NDManager.newBaseManager()) {
      LoraConfig lora =
          LoraConfig.builder()
              .setRank(4)
              .optAlpha(8)
              .optDropout(0.05)
              .optTargetModules(List.of("up_proj"))
              .build();
      LoraAdapter adapter = new ToyLm(m, 1).applyLora(m, lora, 2);
      Random r = new Random(7);
      for (NDArray p : adapter.parameters()) {
        float[] v = new float[Math.toIntExact(p.size())];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) r.nextGaussian();
        }
        p.set(v);
      }
      PeftAdapter.export(adapter, exported, "hf://org/tiny");
    }
  }

  private record Run(int exitCode, String stdout, String stderr, AdapterCheckResult verdict) {}

  private Run run(String... args) throws IOException {
    Path termination = Files.createTempFile(work, "termination", ".log");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    TrainerServices services =
        new TrainerServices(
            null,
            null,
            null,
            null,
            null,
            null,
            new TerminationMessage(termination),
            new StopSignal(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    List<String> all = new ArrayList<>(List.of("check-adapter"));
    all.addAll(List.of(args));
    int code = TrainerMain.run(services, all.toArray(String[]::new));
    String message = Files.readString(termination);
    return new Run(
        code,
        out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8),
        message.isBlank() ? null : Contract.read(message, AdapterCheckResult.class));
  }

  private Run check(Path dir, int maxRank, String digest) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--dir",
                dir.toString(),
                "--max-rank",
                Integer.toString(maxRank),
                "--target-modules",
                MODULES));
    if (digest != null) {
      args.addAll(List.of("--expect-digest", digest));
    }
    return run(args.toArray(String[]::new));
  }

  /** A copy of the exported adapter, changed by {@code change}. */
  private Path copy(String name, Consumer<Path> change) throws IOException {
    Path dir = Files.createDirectories(work.resolve(name));
    for (String f : List.of(AdapterDigest.CONFIG_FILE, AdapterDigest.WEIGHTS_FILE)) {
      Files.copy(exported.resolve(f), dir.resolve(f));
    }
    change.accept(dir);
    return dir;
  }

  private Path withConfig(String name, Consumer<ObjectNode> edit) throws IOException {
    return copy(
        name,
        dir -> {
          try {
            Path file = dir.resolve(AdapterDigest.CONFIG_FILE);
            ObjectNode config = (ObjectNode) Contract.json().readTree(file.toFile());
            edit.accept(config);
            Files.writeString(file, Contract.json().writeValueAsString(config));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  private static void assertRefused(Run run, String reason, String hint) {
    assertEquals(AdapterChecks.REFUSED_EXIT_CODE, run.exitCode(), run.stderr());
    assertNotNull(run.verdict(), "no termination message");
    assertEquals(false, run.verdict().ok());
    assertEquals(reason, run.verdict().reason());
    assertTrue(run.verdict().message().contains(hint), run.verdict().message());
    assertTrue(run.stderr().contains(reason), run.stderr());
  }

  @Test
  void aValidExportedAdapterPassesWithItsRankModulesAndDigest() throws IOException {
    String digest = AdapterDigest.of(exported);
    Run run = check(exported, 16, digest);
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.verdict().ok(), run.verdict().message());
    assertEquals(digest, run.verdict().digest());
    assertEquals(4, run.verdict().rank());
    assertEquals(List.of("up_proj"), run.verdict().targetModules());
    // The same verdict on stdout for someone running it by hand.
    assertEquals(run.verdict(), Contract.read(run.stdout().trim(), AdapterCheckResult.class));
  }

  @Test
  void withoutAnExpectedDigestTheDigestIsReported() throws IOException {
    Run run = check(exported, 16, null);
    assertEquals(0, run.exitCode(), run.stderr());
    assertEquals(AdapterDigest.of(exported), run.verdict().digest());
  }

  @Test
  void aRankAboveTheServerLimitIsRefused() throws IOException {
    Run run = check(exported, 2, null);
    assertRefused(run, Reasons.RANK_TOO_HIGH, "maxLoraRank");
    assertEquals(4, run.verdict().rank());
  }

  @Test
  void aFolderWithModelPyIsRefused() throws IOException {
    Path dir = copy("code", d -> write(d.resolve("model.py"), "import os"));
    assertRefused(check(dir, 16, null), Reasons.CODE_FOUND, "DJL Serving would execute model.py");
  }

  @Test
  void changedFilesDoNotMatchTheRecordedDigest() throws IOException {
    Run run = check(exported, 16, "sha256:" + "0".repeat(64));
    assertRefused(run, Reasons.DIGEST_MISMATCH, "re-run the FineTuneJob");
    assertEquals(AdapterDigest.of(exported), run.verdict().digest());
  }

  @Test
  void unsupportedPeftFeaturesAreRefused() throws IOException {
    assertRefused(
        check(withConfig("bias", c -> c.put("bias", "all")), 16, null),
        Reasons.BIAS_NOT_SUPPORTED,
        "bias: none");
    assertRefused(
        check(withConfig("save", c -> c.putArray("modules_to_save").add("lm_head")), 16, null),
        Reasons.MODULES_TO_SAVE_NOT_SUPPORTED,
        "modules_to_save");
    assertRefused(
        check(withConfig("dora", c -> c.put("use_dora", true)), 16, null),
        Reasons.DORA_NOT_SUPPORTED,
        "use_dora: false");
    assertRefused(
        check(withConfig("targets", c -> c.putArray("target_modules").add("lm_head")), 16, null),
        Reasons.UNSUPPORTED_TARGET_MODULES,
        "lm_head");
  }

  @Test
  void missingOrUnsafeFilesAreRefused() throws IOException {
    assertRefused(
        check(work.resolve("nowhere"), 16, null), Reasons.FOLDER_MISSING, "does not exist");
    Path noConfig = copy("no-config", d -> delete(d.resolve(AdapterDigest.CONFIG_FILE)));
    assertRefused(check(noConfig, 16, null), Reasons.CONFIG_MISSING, "PEFT adapter folder");
    Path broken = copy("broken", d -> write(d.resolve(AdapterDigest.CONFIG_FILE), "{not json"));
    assertRefused(check(broken, 16, null), Reasons.CONFIG_INVALID, "not valid JSON");
    Path pickle =
        copy(
            "pickle",
            d -> {
              delete(d.resolve(AdapterDigest.WEIGHTS_FILE));
              write(d.resolve("adapter_model.bin"), "pickle");
            });
    assertRefused(check(pickle, 16, null), Reasons.PICKLE_WEIGHTS, "safetensors");
  }

  @Test
  void badArgumentsAreUsageErrorsWithoutAVerdict() throws IOException {
    Run run =
        run(
            "--dir",
            exported.toString(),
            "--max-rank",
            "8",
            "--target-modules",
            MODULES,
            "--expect-digest",
            "md5:abc");
    assertEquals(2, run.exitCode());
    assertTrue(run.stderr().contains("--expect-digest"), run.stderr());
    assertEquals(null, run.verdict());
    assertEquals(2, run("--dir", exported.toString()).exitCode());
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void delete(Path file) {
    try {
      Files.delete(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
