package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.FixedCompletion;
import io.kubetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full small CPU run on a tiny Llama: the model learns to answer every prompt with a fixed
 * completion, the frozen base stays bit-identical, and the exported adapter reproduces the trained
 * model when loaded onto a fresh copy of the base.
 */
class LlamaFineTuneTest {

  @TempDir Path dir;

  @Test
  void learnsAFixedCompletionAndKeepsTheBaseFrozen() throws Exception {
    Path modelDir = TinyModels.llama().layers(2).kvHeads(2).seed(3).write(dir.resolve("model"));
    List<TrainingExample> train = FixedCompletion.examples(32, 1);
    List<TrainingExample> valid = FixedCompletion.examples(8, 2);
    TrainingResult result;
    Map<String, float[]> before = new LinkedHashMap<>();
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      for (String name : model.weightNames()) {
        before.put(name, model.weight(name).toFloatArray());
      }
      LoraAdapter adapter =
          LoraAdapter.apply(
              LoraConfig.builder()
                  .setRank(8)
                  .optAlpha(16)
                  .optDropout(0.05)
                  .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
                  .build(),
              model,
              m,
              42);
      result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(CausalLm.of(model))
                  .setParameters(adapter.parameters())
                  .optTrainingMode(adapter::setTraining)
                  .setTrainData(train)
                  .optValidationData(valid)
                  .setOptions(
                      TrainingOptions.builder()
                          .optEpochs(8)
                          .optBatchSize(8)
                          .optLearningRate(1e-2)
                          .optWarmupRatio(0.1)
                          .optLrScheduler(LrSchedule.Type.COSINE)
                          .optEvalEverySteps(8)
                          .optPadTokenId(TinyModels.PAD)
                          .build())
                  .setManager(m)
                  .build());
      for (String name : model.weightNames()) {
        assertArrayEquals(before.get(name), model.weight(name).toFloatArray(), 0f, name);
        assertFalse(model.weight(name).hasGradient(), name + " must not hold a gradient");
      }
      PeftAdapter.export(adapter, dir.resolve("adapter"), modelDir.toString());

      // The exported adapter on a fresh base scores exactly what the trained model scored.
      try (LlamaModel fresh = LlamaModel.load(modelDir, m)) {
        LoraAdapter loaded = PeftAdapter.load(dir.resolve("adapter"), fresh, m);
        assertEquals(adapter.parameterCount(), loaded.parameterCount());
        EvalRecord reloaded =
            FineTuner.run(
                    FineTuner.TrainingJob.builder()
                        .setModel(CausalLm.of(fresh))
                        .setParameters(loaded.parameters())
                        .setTrainData(train.subList(0, 1))
                        .optValidationData(valid)
                        .setOptions(
                            TrainingOptions.builder()
                                .optMaxSteps(1)
                                .optLearningRate(1e-30)
                                .optPadTokenId(TinyModels.PAD)
                                .build())
                        .setManager(m)
                        .build())
                .baseline();
        assertEquals(result.finalEval().validLoss(), reloaded.validLoss(), 1e-5);
      }
    }
    double baseline = result.baseline().validLoss();
    double trained = result.finalEval().validLoss();
    assertEquals(32, result.totalSteps());
    // Greedy answers become all right long before the probabilities saturate.
    assertTrue(trained < 0.25 * baseline, "validation loss " + baseline + " -> " + trained);
    assertTrue(
        result.finalEval().validTokenAccuracy() > 0.95,
        "accuracy " + result.finalEval().validTokenAccuracy());
    System.out.printf(
        "tiny Llama fixed completion: valid loss %.3f -> %.4f, accuracy %.2f -> %.2f%n",
        baseline,
        trained,
        result.baseline().validTokenAccuracy(),
        result.finalEval().validTokenAccuracy());
  }
}
