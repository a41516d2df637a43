package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.TrainerResult;
import io.kubetune.trainer.testing.PythonReference;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local example (examples/local/job.yaml + examples/datasets) runs as documented. */
class LocalExampleTest {
  @TempDir Path dir;

  @Test
  void exampleConfigValidatesAndTrains() throws Exception {
    Path repo = PythonReference.moduleDir().getParent();
    ObjectNode cfg =
        (ObjectNode) new YAMLMapper().readTree(repo.resolve("examples/local/job.yaml").toFile());
    // The example expects a real model at models/base; a tiny one stands in for it here.
    ((ObjectNode) cfg.get("baseModel"))
        .put("uri", CliRun.tinyModel(dir.resolve("models/base")).toString());
    ObjectNode ds = (ObjectNode) cfg.get("dataset");
    ds.put("train", repo.resolve(ds.get("train").asText()).toString());
    ((ObjectNode) cfg.get("output"))
        .put("adapterDir", dir.resolve("out/adapter").toString())
        .put("checkpointDir", dir.resolve("out/checkpoints").toString());
    // A few steps prove the config trains; the full run is the user's.
    ((ObjectNode) cfg.get("hyperparameters")).put("maxSteps", 3);
    Path file =
        Files.writeString(dir.resolve("job.yaml"), new YAMLMapper().writeValueAsString(cfg));

    CliRun check = CliRun.run(dir, "validate-dataset", "--config", file.toString());
    assertEquals(0, check.exitCode, check.stderr);
    DatasetReport report = Contract.read(check.termination, DatasetReport.class);
    assertEquals(19, report.trainExamples());
    assertEquals(5, report.validExamples());

    CliRun train = CliRun.run(dir, "train", "--config", file.toString());
    assertEquals(0, train.exitCode, train.stderr);
    TrainerResult result = Contract.read(train.termination, TrainerResult.class);
    assertTrue(result.succeeded());
    assertEquals(3L, result.steps());
  }
}
