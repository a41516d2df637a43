package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.cli.StopSignal;
import io.kubetune.trainer.export.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM while a periodic checkpoint is written: that checkpoint is current, so stop at once. */
class StopDuringCheckpointTest {
  @TempDir Path dir;

  @Test
  void aStopDuringAPeriodicCheckpointStopsAfterItWithoutAnotherStep() throws Exception {
    Path model = CliRun.tinyModel(dir.resolve("model"));
    Path train = CliRun.chatData(dir.resolve("train.jsonl"), 12, 1);
    Path valid = CliRun.chatData(dir.resolve("valid.jsonl"), 4, 2);
    ObjectNode cfg = CliRun.trainConfig(model, train, valid, dir.resolve("run"));
    ((ObjectNode) cfg.get("hyperparameters")).put("maxSteps", 8);
    ((ObjectNode) cfg.get("checkpointing")).put("everySteps", 4);
    Path file = CliRun.write(dir.resolve("run/job.json"), cfg);
    StopSignal stop = new StopSignal();

    CliRun run =
        CliRun.run(
            dir,
            stop,
            line -> {
              // Printed by the training thread right before it writes the step-4 checkpoint.
              if (line.contains("\"stage\":\"CHECKPOINTING\"") && line.contains("\"step\":4,")) {
                stop.requestStop("SIGTERM");
              }
            },
            "train",
            "--config",
            file.toString());

    assertEquals(143, run.exitCode, run.stderr);
    assertTrue(
        Files.isRegularFile(dir.resolve("run/checkpoints/step-4").resolve(Checkpoints.STATE_FILE)));
    long lastStep =
        run.progress().stream()
            .filter(p -> p.stage() == TrainerStage.TRAINING && p.step() != null)
            .mapToLong(TrainerProgress::step)
            .max()
            .orElse(0);
    assertEquals(4, lastStep, "no step after the checkpoint the stop arrived during");
  }
}
