package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FineTunerTest {

  private static final LoraConfig LORA =
      LoraConfig.builder()
          .setRank(4)
          .optAlpha(8)
          .optTargetModules(List.of("up_proj", "lm_head"))
          .build();

  @Test
  void learnsTheTaskAndLeavesTheBaseUntouched() {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      List<float[]> frozenBefore =
          model.frozenWeights().stream().map(NDArray::toFloatArray).toList();
      LoraAdapter adapter = model.applyLora(m, LORA, 5);
      List<TrainerStage> stages = new ArrayList<>();
      List<StepRecord> steps = new ArrayList<>();
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(model)
                  .setParameters(adapter.parameters())
                  .optTrainingMode(adapter::setTraining)
                  .setTrainData(ToyLm.copyTask(48, 2))
                  .optValidationData(ToyLm.copyTask(16, 3))
                  .setOptions(
                      TrainingOptions.builder()
                          .optEpochs(8)
                          .optBatchSize(8)
                          .optLearningRate(3e-2)
                          .optWarmupRatio(0.1)
                          .optEvalEverySteps(6)
                          .build())
                  .setManager(m)
                  .optListener(
                      new TrainingListener() {
                        @Override
                        public void onStageChange(TrainerStage stage) {
                          stages.add(stage);
                        }

                        @Override
                        public void onStep(StepRecord step) {
                          steps.add(step);
                        }
                      })
                  .build());
      assertEquals(48, result.totalSteps(), "8 epochs of 6 micro-batches");
      assertEquals(48, steps.size());
      assertEquals(0.0, steps.get(0).learningRate(), "HF warm-up starts at lr 0");
      assertEquals(8.0, steps.get(47).epoch(), 1e-9);
      assertEquals(TrainerStage.EVALUATING, stages.get(0));
      double before = result.baseline().validLoss();
      double after = result.finalEval().validLoss();
      assertTrue(
          after < 0.3 * before, "validation loss must drop a lot: " + before + " -> " + after);
      assertTrue(result.finalEval().validTokenAccuracy() > result.baseline().validTokenAccuracy());
      assertTrue(result.finalEval().validTokenAccuracy() > 0.9);
      assertEquals(1 + 8, result.evalHistory().size(), "baseline + every 6 steps");
      List<float[]> frozenAfter =
          model.frozenWeights().stream().map(NDArray::toFloatArray).toList();
      for (int i = 0; i < frozenBefore.size(); i++) {
        assertArrayEquals(frozenBefore.get(i), frozenAfter.get(i), 0f, "frozen weight " + i);
      }
      for (NDArray w : model.frozenWeights()) {
        assertTrue(!w.hasGradient(), "frozen weights never get gradient arrays");
      }
    }
  }

  @Test
  void gradientAccumulationEqualsOneBigBatch() {
    float[] big = trainOnce(4, 1);
    float[] accumulated = trainOnce(2, 2);
    float[] single = trainOnce(1, 4);
    assertArrayEquals(big, accumulated, 2e-6f);
    assertArrayEquals(big, single, 2e-6f);
  }

  private static float[] trainOnce(int batchSize, int accumulation) {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter = model.applyLora(m, LORA, 5);
      // Examples of different lengths and label counts: per-micro-batch averaging would differ.
      FineTuner.run(
          FineTuner.TrainingJob.builder()
              .setModel(model)
              .setParameters(adapter.parameters())
              .setTrainData(ToyLm.copyTask(8, 9))
              .setOptions(
                  TrainingOptions.builder()
                      .optMaxSteps(4)
                      .optBatchSize(batchSize)
                      .optGradientAccumulationSteps(accumulation)
                      .optShuffle(false)
                      .optLearningRate(1e-2)
                      .build())
              .setManager(m)
              .build());
      List<Float> all = new ArrayList<>();
      for (NDArray p : adapter.parameters()) {
        for (float f : p.toFloatArray()) {
          all.add(f);
        }
      }
      float[] out = new float[all.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = all.get(i);
      }
      return out;
    }
  }

  @Test
  void memoryStaysFlatOverManySteps() {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter =
          model.applyLora(
              m,
              LoraConfig.builder()
                  .setRank(4)
                  .optDropout(0.1)
                  .optTargetModules(List.of("up_proj", "lm_head"))
                  .build(),
              5);
      List<Integer> counts = new ArrayList<>();
      FineTuner.run(
          FineTuner.TrainingJob.builder()
              .setModel(model)
              .setParameters(adapter.parameters())
              .optTrainingMode(adapter::setTraining)
              .setTrainData(ToyLm.copyTask(12, 2))
              .optValidationData(ToyLm.copyTask(4, 3))
              .setOptions(
                  TrainingOptions.builder()
                      .optMaxSteps(60)
                      .optBatchSize(3)
                      .optGradientAccumulationSteps(2)
                      .optEvalEverySteps(7)
                      .build())
              .setManager(m)
              .optListener(
                  new TrainingListener() {
                    @Override
                    public void onStep(StepRecord step) {
                      counts.add(m.getManagedArrays().size());
                    }
                  })
              .build());
      assertEquals(60, counts.size());
      // The count must see the live arrays (weights, optimizer state) for the check to mean much.
      assertTrue(counts.get(4) >= 3 * adapter.parameters().size(), "counted " + counts.get(4));
      assertEquals(
          counts.get(4), counts.get(59), "arrays alive after step 5 vs step 60: " + counts);
    }
  }

  @Test
  void nanLossFailsClearly() {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter = model.applyLora(m, LORA, 5);
      AtomicInteger calls = new AtomicInteger();
      CausalLm poisoned =
          (ids, mask) -> {
            NDArray logits = model.logits(ids, mask);
            return calls.incrementAndGet() > 3 ? logits.mul(Float.NaN) : logits;
          };
      TrainingDivergedException e =
          assertThrows(
              TrainingDivergedException.class,
              () ->
                  FineTuner.run(
                      FineTuner.TrainingJob.builder()
                          .setModel(poisoned)
                          .setParameters(adapter.parameters())
                          .setTrainData(ToyLm.copyTask(8, 2))
                          .setOptions(TrainingOptions.builder().optMaxSteps(10).build())
                          .setManager(m)
                          .build()));
      assertEquals(4, e.step());
      assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("learningRate"));
    }
  }

  @Test
  void badHyperparametersNameTheField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TrainingOptions.builder().optLearningRate(-1).build());
    assertTrue(e.getMessage().contains("hyperparameters.learningRate"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.Type.parse("exponential"));
    assertTrue(e.getMessage().contains("linear, cosine"), e.getMessage());
  }

  @Test
  void stepCountsFollowTheHuggingFaceTrainer() {
    TrainingOptions o =
        TrainingOptions.builder()
            .optBatchSize(3)
            .optGradientAccumulationSteps(2)
            .optEpochs(2)
            .build();
    // 10 examples: 4 micro-batches, 2 optimizer steps per epoch (the last group is short).
    assertEquals(4, o.microBatchesPerEpoch(10));
    assertEquals(2, o.stepsPerEpoch(10));
    assertEquals(4, o.totalSteps(10));
    assertEquals(3, LrSchedule.warmupSteps(0.03, 100), "warm-up rounds up");
  }
}
