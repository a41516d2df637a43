package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerResult;
import io.kubetune.trainer.cli.StopSignal;
import io.kubetune.trainer.full.TransformersLogits;
import io.kubetune.trainer.model.LlamaModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model {@code train --config} writes for {@code method.type full} and {@code partial} is a
 * Hugging Face model: transformers loads the (sharded) folder and its logits match ours.
 */
class FullModelExportInteropTest {

  @TempDir Path dir;

  @Test
  void fullAndPartialExportsLoadInTransformersWithOurLogits() throws Exception {
    Path model = CliRun.tinyModel(dir.resolve("model"));
    Path train = CliRun.chatData(dir.resolve("train.jsonl"), 16, 1);
    Path valid = CliRun.chatData(dir.resolve("valid.jsonl"), 4, 2);
    for (String type : new String[] {"full", "partial"}) {
      ObjectNode c = CliRun.trainConfig(model, train, valid, dir.resolve(type));
      ObjectNode m = c.putObject("method");
      m.put("type", type);
      if (type.equals("partial")) {
        m.put("trainableLayers", 1);
      }
      ObjectNode h = (ObjectNode) c.get("hyperparameters");
      h.put("maxSteps", 5);
      h.put("learningRate", 0.003);
      Path file = CliRun.write(dir.resolve(type + "/job.json"), c);
      CliRun run =
          CliRun.run(
              dir,
              new FineTuningRunner(FineTuningMethodsCliTest.SHARD_BYTES),
              new StopSignal(),
              line -> {},
              "train",
              "--config",
              file.toString());
      assertEquals(0, run.exitCode, run.stderr);
      TrainerResult result = Contract.read(run.termination, TrainerResult.class);
      assertEquals(AdapterInfo.KIND_MODEL, result.adapter().kind());
      Path out = Path.of(result.adapter().path());
      try (NDManager manager = NDManager.newBaseManager();
          LlamaModel ours = LlamaModel.load(out, manager)) {
        float diff = TransformersLogits.assertAgrees(out, ours, 1e-4f, dir.resolve(type));
        System.out.printf("%s export: max |logit diff| vs transformers %.2e%n", type, diff);
      }
    }
  }
}
