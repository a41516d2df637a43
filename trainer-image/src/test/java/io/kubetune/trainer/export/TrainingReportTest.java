package io.kubetune.trainer.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.DatasetReport;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.ToyLm;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingReportTest {

  @TempDir Path dir;

  @Test
  void reportHoldsHyperparametersHistoryAndTimings() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter =
          model.applyLora(
              m, LoraConfig.builder().setRank(2).optTargetModules(List.of("up_proj")).build(), 1);
      Instant started = Instant.now();
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(model)
                  .setParameters(adapter.parameters())
                  .setTrainData(ToyLm.copyTask(10, 1))
                  .optValidationData(ToyLm.copyTask(4, 2))
                  .setOptions(TrainingOptions.builder().optMaxSteps(5).optEvalEverySteps(2).build())
                  .setManager(m)
                  .build());
      AdapterInfo info = PeftAdapter.export(adapter, dir, "hf://org/toy");
      DatasetReport dataset = new DatasetReport(true, "completion", 10, 4, 99, 0, 0, List.of());
      TrainingReport.of(result, adapter, info, "hf://org/toy", dataset, started, Instant.now())
          .write(dir);

      TrainingReport read = TrainingReport.read(dir);
      assertEquals(5, read.steps());
      assertEquals(5, read.stepHistory().size());
      assertEquals(
          List.of(0L, 2L, 4L, 5L), read.evalHistory().stream().map(e -> e.step()).toList());
      assertEquals(2e-4, read.hyperparameters().get("learningRate"));
      assertEquals(5, ((Number) read.hyperparameters().get("totalSteps")).intValue());
      assertEquals(info.digest(), read.adapter().digest());
      assertEquals(List.of("model.layers.0.mlp.up_proj"), read.lora().modules());
      assertEquals(99, read.dataset().totalTokens());
      assertTrue(read.timings().trainSeconds() > 0 && read.timings().trainedTokens() > 0);
      assertEquals(result.baseline().validLoss(), read.baseline().validLoss());
    }
  }
}
