package io.kubetune.trainer.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.report.LogCapture;
import io.kubetune.trainer.train.AdamW;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.ResumeState;
import io.kubetune.trainer.train.ToyLm;
import io.kubetune.trainer.train.TrainingOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What makes a checkpoint complete: a damaged or half-written one is skipped with a warning and the
 * previous one is loaded, never the damaged one.
 */
class CheckpointsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final LoraConfig LORA =
      LoraConfig.builder().setRank(2).optTargetModules(List.of("up_proj", "lm_head")).build();

  @TempDir Path root;

  private NDManager manager;
  private LoraAdapter adapter;

  @BeforeEach
  void trainSixStepsWithACheckpointEveryThree() {
    manager = NDManager.newBaseManager();
    ToyLm model = new ToyLm(manager, 1);
    adapter = model.applyLora(manager, LORA, 3);
    FineTuner.run(
        FineTuner.TrainingJob.builder()
            .setModel(model)
            .setParameters(adapter.parameters())
            .optTrainingMode(adapter::setTraining)
            .setTrainData(ToyLm.copyTask(14, 5))
            .setOptions(
                TrainingOptions.builder()
                    .optMaxSteps(7)
                    .optBatchSize(3)
                    .optLearningRate(2e-2)
                    .build())
            .optCheckpointer(3, (step, opt) -> Checkpoints.write(root, step, adapter, opt, "b", 3))
            .setManager(manager)
            .build());
  }

  @AfterEach
  void close() {
    manager.close();
  }

  /** Ways a checkpoint gets damaged: a full disk, a partial copy, an editor, bit rot. */
  enum Damage {
    TRUNCATED_ADAPTER_WEIGHTS,
    TRUNCATED_OPTIMIZER_STATE,
    MISSING_OPTIMIZER_STATE,
    GARBAGE_STATE_JSON,
    MISSING_STATE_JSON,
    EMPTY_STATE_JSON,
    FLIPPED_BYTE_SAME_SIZE,
    STATE_WITHOUT_MANIFEST
  }

  @ParameterizedTest
  @EnumSource(Damage.class)
  void aDamagedNewestCheckpointIsSkippedWithAWarningAndThePreviousOneLoaded(Damage damage)
      throws IOException {
    Path step6 = root.resolve("step-6");
    damage(step6, damage);

    try (LogCapture log = new LogCapture()) {
      ResumeState state = Checkpoints.readLatest(root, adapter).orElseThrow();

      assertEquals(3, state.step(), damage.name());
      ResumeState step3 = Checkpoints.read(root.resolve("step-3"), adapter);
      for (int i = 0; i < step3.parameters().size(); i++) {
        assertArrayEquals(step3.parameters().get(i), state.parameters().get(i));
      }
      String text = log.text();
      assertTrue(
          text.contains("WARN") && text.contains("skipping corrupt checkpoint " + step6), text);
      assertTrue(text.contains("resuming from " + root.resolve("step-3")), text);
      assertEquals(root.resolve("step-3"), Checkpoints.latest(root).orElseThrow());
    }
    assertThrows(
        Checkpoints.CorruptCheckpointException.class, () -> Checkpoints.read(step6, adapter));
  }

  @Test
  void intactCheckpointsListEveryFileWithSizeAndSha256() throws IOException {
    Map<?, ?> state = JSON.readValue(root.resolve("step-6/trainer_state.json").toFile(), Map.class);
    assertEquals(6, state.get("step"));
    assertEquals(Checkpoints.FORMAT, state.get("format"));
    Map<?, ?> files = (Map<?, ?>) state.get("files");
    assertEquals(
        List.of("adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors"),
        files.keySet().stream().map(Object::toString).sorted().toList());
    Map<?, ?> weights = (Map<?, ?>) files.get("adapter_model.safetensors");
    assertEquals(
        Files.size(root.resolve("step-6/adapter_model.safetensors")),
        ((Number) weights.get("size")).longValue());
    assertEquals(64, weights.get("sha256").toString().length());
    assertEquals(6, Checkpoints.readLatest(root, adapter).orElseThrow().step());
  }

  @Test
  void aPartialFolderIsNeverLoadedEvenWhenItLooksComplete() throws IOException {
    // A write killed just before its rename: everything is there, but under the temporary name.
    copyTree(root.resolve("step-6"), root.resolve(".step-9.partial"));

    assertEquals(6, Checkpoints.readLatest(root, adapter).orElseThrow().step());
  }

  @Test
  void whenEveryCheckpointIsDamagedTheRunStartsFresh() throws IOException {
    damage(root.resolve("step-3"), Damage.GARBAGE_STATE_JSON);
    damage(root.resolve("step-6"), Damage.TRUNCATED_ADAPTER_WEIGHTS);

    assertTrue(Checkpoints.readLatest(root, adapter).isEmpty());
    assertTrue(Checkpoints.latest(root).isEmpty());
  }

  @Test
  void aCheckpointOfAnotherAdapterIsAConfigErrorNotSkipped() {
    ToyLm other = new ToyLm(manager, 1);
    LoraAdapter rank4 =
        other.applyLora(
            manager,
            LoraConfig.builder().setRank(4).optTargetModules(List.of("up_proj", "lm_head")).build(),
            3);

    IOException e =
        assertThrows(IOException.class, () -> Checkpoints.readLatest(root, rank4).orElseThrow());
    assertFalse(e instanceof Checkpoints.CorruptCheckpointException, e.toString());
    assertTrue(e.getMessage().contains("checkpointing.resume=Never"), e.getMessage());
  }

  @Test
  void writingRemovesLeftoverPartialsAndCheckpointsOfLaterSteps() throws IOException {
    copyTree(root.resolve("step-6"), root.resolve(".step-4.partial"));
    copyTree(root.resolve("step-6"), root.resolve("step-9"));
    // A run resumed from step 3 writes step 6 again: step 9 belongs to another timeline.
    Checkpoints.write(
        root,
        6,
        adapter,
        AdamW.builder().setParameters(adapter.parameters()).setManager(manager).build(),
        "b",
        2);

    assertEquals(List.of("step-3", "step-6"), names(root));
  }

  private static void damage(Path dir, Damage damage) throws IOException {
    switch (damage) {
      case TRUNCATED_ADAPTER_WEIGHTS -> truncate(dir.resolve(PeftAdapter.WEIGHTS_FILE));
      case TRUNCATED_OPTIMIZER_STATE -> truncate(dir.resolve("optimizer.safetensors"));
      case MISSING_OPTIMIZER_STATE -> Files.delete(dir.resolve("optimizer.safetensors"));
      case GARBAGE_STATE_JSON ->
          Files.writeString(dir.resolve(Checkpoints.STATE_FILE), "{\"step\": 6, \"files\": {\"");
      case MISSING_STATE_JSON -> Files.delete(dir.resolve(Checkpoints.STATE_FILE));
      case EMPTY_STATE_JSON -> Files.write(dir.resolve(Checkpoints.STATE_FILE), new byte[0]);
      case FLIPPED_BYTE_SAME_SIZE -> {
        Path f = dir.resolve(PeftAdapter.WEIGHTS_FILE);
        byte[] b = Files.readAllBytes(f);
        b[b.length - 3] ^= 0x40;
        Files.write(f, b);
      }
      case STATE_WITHOUT_MANIFEST -> {
        ObjectNode state = (ObjectNode) JSON.readTree(dir.resolve(Checkpoints.STATE_FILE).toFile());
        state.remove("files");
        JSON.writeValue(dir.resolve(Checkpoints.STATE_FILE).toFile(), state);
      }
      default -> throw new IllegalArgumentException(damage.name());
    }
  }

  private static void truncate(Path file) throws IOException {
    long size = Files.size(file);
    try (var c = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
      c.truncate(size / 2);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path f : s.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
