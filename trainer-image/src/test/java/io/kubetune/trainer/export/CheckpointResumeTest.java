package io.kubetune.trainer.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.kubetune.contract.CheckpointInfo;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.ResumeState;
import io.kubetune.trainer.train.StepRecord;
import io.kubetune.trainer.train.ToyLm;
import io.kubetune.trainer.train.TrainingListener;
import io.kubetune.trainer.train.TrainingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run killed after a checkpoint and resumed ends with the same weights as an unbroken run. */
class CheckpointResumeTest {

  private static final LoraConfig LORA =
      LoraConfig.builder()
          .setRank(2)
          .optDropout(0.2)
          .optTargetModules(List.of("up_proj", "lm_head"))
          .build();
  private static final TrainingOptions OPTIONS =
      TrainingOptions.builder()
          .optMaxSteps(10)
          .optBatchSize(3)
          .optGradientAccumulationSteps(2)
          .optLearningRate(2e-2)
          .optWarmupRatio(0.2)
          .build();

  @TempDir Path root;

  private static final class Killed extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  @Test
  void resumedRunMatchesAnUninterruptedOne() throws Exception {
    List<float[]> expected;
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter = model.applyLora(m, LORA, 3);
      FineTuner.run(job(model, adapter, m).build());
      expected = adapter.parameters().stream().map(NDArray::toFloatArray).toList();
    }

    List<CheckpointInfo> written = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter = model.applyLora(m, LORA, 3);
      FineTuner.TrainingJob killedJob =
          job(model, adapter, m)
              .optCheckpointer(
                  3, (step, opt) -> Checkpoints.write(root, step, adapter, opt, "b", 1))
              .optListener(
                  new TrainingListener() {
                    @Override
                    public void onStep(StepRecord step) {
                      if (step.step() == 7) {
                        throw new Killed();
                      }
                    }

                    @Override
                    public void onCheckpoint(CheckpointInfo checkpoint) {
                      written.add(checkpoint);
                    }
                  })
              .build();
      assertThrows(Killed.class, () -> FineTuner.run(killedJob));
    }
    assertEquals(List.of(3L, 6L), written.stream().map(CheckpointInfo::step).toList());
    try (Stream<Path> s = Files.list(root)) {
      assertEquals(
          List.of("step-6"), s.map(p -> p.getFileName().toString()).toList(), "keepLast 1");
    }

    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      LoraAdapter adapter = model.applyLora(m, LORA, 99);
      Path latest = Checkpoints.latest(root).orElseThrow();
      ResumeState state = Checkpoints.read(latest, adapter);
      assertEquals(6, state.step());
      List<StepRecord> steps = new ArrayList<>();
      FineTuner.run(
          job(model, adapter, m)
              .optResume(state)
              .optListener(
                  new TrainingListener() {
                    @Override
                    public void onStep(StepRecord step) {
                      steps.add(step);
                    }
                  })
              .build());
      assertEquals(List.of(7L, 8L, 9L, 10L), steps.stream().map(StepRecord::step).toList());
      assertTrue(
          steps.get(0).trainedTokens() > steps.get(0).labelTokens(), "tokens include restarts");
      List<NDArray> params = adapter.parameters();
      for (int i = 0; i < params.size(); i++) {
        assertArrayEquals(expected.get(i), params.get(i).toFloatArray(), 1e-7f, "parameter " + i);
      }
    }
  }

  private static FineTuner.TrainingJob.Builder job(ToyLm model, LoraAdapter adapter, NDManager m) {
    return FineTuner.TrainingJob.builder()
        .setModel(model)
        .setParameters(adapter.parameters())
        .optTrainingMode(adapter::setTraining)
        .setTrainData(ToyLm.copyTask(14, 5))
        .setOptions(OPTIONS)
        .setManager(m);
  }
}
