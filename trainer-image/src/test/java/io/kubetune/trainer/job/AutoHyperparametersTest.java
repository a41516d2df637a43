package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.TrainingOptions;
import org.junit.jupiter.api.Test;

class AutoHyperparametersTest {
  private static TrainerConfig.Hyperparameters auto() {
    return new TrainerConfig.Hyperparameters(
        null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  @Test
  void smallDatasetsGetMoreEpochsUpToTen() {
    // 20 examples, batch 4: 5 steps per epoch; 50 steps would need 10 epochs.
    TrainingOptions o = AutoHyperparameters.resolve(auto(), 20, 512, 0);
    assertEquals(4, o.batchSize());
    assertEquals(10.0, o.epochs());
    assertEquals(50, o.totalSteps(20));
    // 2 examples: batch 2, one step per epoch, capped at 10 epochs.
    TrainingOptions tiny = AutoHyperparameters.resolve(auto(), 2, 512, 0);
    assertEquals(2, tiny.batchSize());
    assertEquals(10, tiny.totalSteps(2));
  }

  @Test
  void largeDatasetsGetThreeEpochsWithWarmup() {
    TrainingOptions o = AutoHyperparameters.resolve(auto(), 4000, 512, 0);
    assertEquals(3.0, o.epochs());
    assertEquals(3000, o.totalSteps(4000));
    assertEquals(0.03, o.warmupRatio());
    assertEquals(2e-4, o.learningRate());
    assertEquals(LrSchedule.Type.LINEAR, o.lrScheduler());
    assertEquals(1.0, o.maxGradNorm());
    assertEquals(300, o.resolvedEvalEverySteps(3000));
    // A short run gets no warm-up: its first step would run at learning rate 0.
    assertEquals(0.0, AutoHyperparameters.resolve(auto(), 20, 512, 0).warmupRatio());
  }

  @Test
  void configuredValuesWin() {
    TrainerConfig.Hyperparameters h =
        new TrainerConfig.Hyperparameters(
            1.0, 7L, 2, 3, 1e-3, "cosine", 0.5, 0.1, 0.0, 128, true, 9L, 2);
    TrainingOptions o = AutoHyperparameters.resolve(h, 100, 128, 5);
    assertEquals(7, o.totalSteps(100));
    assertEquals(2, o.batchSize());
    assertEquals(3, o.gradientAccumulationSteps());
    assertEquals(1e-3, o.learningRate());
    assertEquals(LrSchedule.Type.COSINE, o.lrScheduler());
    assertEquals(0.5, o.warmupRatio());
    assertEquals(0.1, o.weightDecay());
    assertEquals(0.0, o.maxGradNorm());
    assertEquals(9, o.seed());
    assertEquals(2, o.evalEverySteps());
    assertEquals(5, o.padTokenId());
    assertEquals(128, AutoHyperparameters.maxSeqLength(h, null));
    assertEquals(true, AutoHyperparameters.packing(h));
  }

  @Test
  void maxSeqLengthFollowsTheModelUpTo2048() {
    assertEquals(2048, AutoHyperparameters.maxSeqLength(auto(), null));
    assertEquals(42L, AutoHyperparameters.seed(null));
  }

  @Test
  void anUnusableValueIsAConfigError() {
    TrainerConfig.Hyperparameters h =
        new TrainerConfig.Hyperparameters(
            null, null, null, null, null, "exponential", null, null, null, null, null, null, null);
    TrainerFailureException e =
        assertThrows(
            TrainerFailureException.class, () -> AutoHyperparameters.resolve(h, 10, 64, 0));
    assertEquals(FailureReason.CONFIG_INVALID, e.reason());
  }
}
