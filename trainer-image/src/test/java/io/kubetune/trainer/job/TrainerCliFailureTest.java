package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import io.kubetune.trainer.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@code train} fails: documented exit code, one-line message, result document. */
class TrainerCliFailureTest {
  @TempDir Path dir;

  private ObjectNode config(Path model) throws IOException {
    Path train = CliRun.chatData(dir.resolve("train.jsonl"), 8, 1);
    Path valid = CliRun.chatData(dir.resolve("valid.jsonl"), 2, 2);
    return CliRun.trainConfig(model, train, valid, dir.resolve("run"));
  }

  private CliRun train(ObjectNode cfg) throws IOException {
    return CliRun.run(
        dir, "train", "--config", CliRun.write(dir.resolve("job.json"), cfg).toString());
  }

  @Test
  void aMethodSettingThatDoesNotFitTheModelIsAConfigErrorNamingTheField() throws IOException {
    ObjectNode cfg = config(CliRun.tinyModel(dir.resolve("model")));
    // The tiny model has 2 layers; only the loaded model can tell.
    cfg.putObject("method").put("type", "partial").put("trainableLayers", 3);

    CliRun run = train(cfg);

    assertEquals(FailureReason.CONFIG_INVALID.exitCode(), run.exitCode, run.stderr);
    assertTrue(run.stderr.contains("method.trainableLayers must be between 0 and 2"), run.stderr);
    TrainerResult result = Contract.read(run.termination, TrainerResult.class);
    assertEquals(FailureReason.CONFIG_INVALID, result.failure());
  }

  @Test
  void anInvalidDatasetStopsTrainingWithTheReportInProgress() throws IOException {
    ObjectNode cfg = config(CliRun.tinyModel(dir.resolve("model")));
    Path train = dir.resolve("train.jsonl");
    Files.writeString(train, Files.readString(train) + "{\"messages\": \"oops\"}\n");

    CliRun run = train(cfg);

    assertEquals(FailureReason.DATASET_INVALID.exitCode(), run.exitCode, run.stderr);
    TrainerResult result = Contract.read(run.termination, TrainerResult.class);
    assertEquals(FailureReason.DATASET_INVALID, result.failure());
    assertTrue(result.message().contains("line 9: MISSING_FIELD"), result.message());
    List<TrainerProgress> docs = run.progress();
    TrainerProgress last = docs.get(docs.size() - 1);
    assertEquals(TrainerStage.FAILED, last.stage());
    assertFalse(last.dataset().valid());
    assertEquals(9, last.dataset().errors().get(0).line());
    assertEquals(DatasetErrorCode.MISSING_FIELD, last.dataset().errors().get(0).code());
    assertFalse(Files.exists(dir.resolve("run/adapter")));
  }

  @Test
  void aNanLossIsTrainingDiverged() throws IOException {
    // One NaN in the final norm makes every logit, and so the loss, NaN from step 1.
    Path model = CliRun.tinyModel(dir.resolve("nan"));
    Path weights = model.resolve("model.safetensors");
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(weights)) {
      for (TensorInfo t : f.tensors().values()) {
        float[] v = f.readFloats(t.name());
        if (t.name().equals("model.norm.weight")) {
          v[0] = Float.NaN;
        }
        w.add(t.name(), t.shape(), v, DType.F32);
      }
    }
    w.write(weights);

    CliRun run = train(config(model));

    assertEquals(FailureReason.TRAINING_DIVERGED.exitCode(), run.exitCode, run.stderr);
    TrainerResult result = Contract.read(run.termination, TrainerResult.class);
    assertEquals(FailureReason.TRAINING_DIVERGED, result.failure());
    assertTrue(result.message().contains("hyperparameters.learningRate"), result.message());
    assertEquals(1, run.stderr.lines().filter(l -> l.startsWith("error:")).count(), run.stderr);
  }
}
