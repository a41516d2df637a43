package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.kubetune.trainer.export.Checkpoints;
import io.kubetune.trainer.full.TrainableWeights;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.FixedCompletion;
import io.kubetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fp16 mixed precision on CPU (PyTorch's CPU kernels run fp16): LoRA on a tiny Llama with the base
 * held in fp16 learns as the fp32 run does, the fp16 base stays bit-identical, the masters stay
 * fp32 (also for partial fine-tuning), and a run resumed from a checkpoint (loss-scaler state
 * included) ends where an uninterrupted one does.
 */
class MixedPrecisionTrainingTest {

  @TempDir Path dir;
  private Path modelDir;

  @BeforeEach
  void model() throws Exception {
    modelDir = TinyModels.llama().layers(2).kvHeads(2).seed(3).write(dir.resolve("model"));
  }

  @Test
  void fp16LoraLearnsLikeFp32AndKeepsTheHalfBaseFrozen() throws Exception {
    TrainingResult fp32 = train(false, null, null);
    TrainingResult fp16 = train(true, null, null);

    assertEquals(Precision.FP16, fp16.precision());
    assertEquals(Precision.FP32, fp32.precision());
    assertEquals(null, fp32.lossScale());
    double base32 = fp32.baseline().validLoss();
    double base16 = fp16.baseline().validLoss();
    assertEquals(base32, base16, 1e-2 * base32, "fp16 forward of the base model");
    double final32 = fp32.finalEval().validLoss();
    double final16 = fp16.finalEval().validLoss();
    assertTrue(final16 < 0.25 * base16, "fp16 validation loss " + base16 + " -> " + final16);
    assertEquals(final32, final16, 0.05 + 0.2 * final32, "fp16 vs fp32 final validation loss");
    assertTrue(fp16.finalEval().validTokenAccuracy() > 0.95);
    // Scale and skips are consistent: no growth within 32 steps, one halving per skipped step.
    long skipped = fp16.stepHistory().stream().filter(StepRecord::skipped).count();
    assertEquals(skipped, fp16.skippedSteps());
    assertEquals(65536f / (1L << skipped), fp16.lossScale());
    System.out.printf(
        "tiny Llama LoRA: valid loss fp32 %.4f -> %.4f, fp16 %.4f -> %.4f (%d of %d steps"
            + " skipped, final loss scale %.0f)%n",
        base32, final32, base16, final16, skipped, fp16.steps(), fp16.lossScale());
  }

  @Test
  void resumedFp16RunEndsWhereAnUninterruptedOneDoes() throws Exception {
    // A huge first scale overflows at once, and a short interval makes it grow again: the
    // checkpoint falls between skips and growths, so the scaler state must round-trip.
    Map<String, float[]> uninterrupted = new LinkedHashMap<>();
    TrainingResult full = train(true, null, uninterrupted);
    assertTrue(full.skippedSteps() >= 2, "skipped " + full.skippedSteps());
    Map<String, float[]> resumed = new LinkedHashMap<>();
    TrainingResult second = train(true, dir.resolve("ckpt"), resumed);
    assertEquals(full.lossScale(), second.lossScale());
    assertEquals(full.skippedSteps(), second.skippedSteps());
    for (Map.Entry<String, float[]> e : uninterrupted.entrySet()) {
      assertArrayEquals(e.getValue(), resumed.get(e.getKey()), 1e-6f, e.getKey());
    }
  }

  @Test
  void partialFineTuningInFp16TrainsFp32MastersOfTheSelectedWeightsOnly() throws Exception {
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      TrainableWeights weights = TrainableWeights.partial(model, 1, List.of());
      Map<String, float[]> masters = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : weights.byName().entrySet()) {
        masters.put(e.getKey(), e.getValue().toFloatArray());
      }
      model.useFp16Compute();
      Map<String, byte[]> frozen = new LinkedHashMap<>();
      for (String name : model.weightNames()) {
        if (!masters.containsKey(name)) {
          frozen.put(name, model.weight(name).toByteArray());
        }
      }
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(CausalLm.of(model))
                  .setParameters(weights.arrays())
                  .setTrainData(FixedCompletion.examples(32, 1))
                  .optValidationData(FixedCompletion.examples(8, 2))
                  .setOptions(
                      TrainingOptions.builder()
                          .optMaxSteps(8)
                          .optEpochs(0)
                          .optBatchSize(8)
                          .optLearningRate(5e-3)
                          .optEvalEverySteps(0)
                          .optPadTokenId(TinyModels.PAD)
                          .build())
                  .optGradScaler(GradScaler.builder().build())
                  .setManager(m)
                  .build());
      assertTrue(
          result.finalEval().validLoss() < result.baseline().validLoss(),
          result.baseline().validLoss() + " -> " + result.finalEval().validLoss());
      for (Map.Entry<String, float[]> e : masters.entrySet()) {
        NDArray w = model.weight(e.getKey());
        assertEquals(DataType.FLOAT32, w.getDataType(), "master " + e.getKey());
        assertFalse(Arrays.equals(e.getValue(), w.toFloatArray()), e.getKey() + " should train");
      }
      for (Map.Entry<String, byte[]> e : frozen.entrySet()) {
        assertArrayEquals(e.getValue(), model.weight(e.getKey()).toByteArray(), e.getKey());
      }
    }
  }

  /**
   * One LoRA run. With {@code resumeFrom} set, the run is split: the first part stops after step 7
   * with a checkpoint, the second starts from a fresh model and that checkpoint.
   */
  private TrainingResult train(boolean fp16, Path resumeFrom, Map<String, float[]> finalWeights)
      throws Exception {
    boolean resumeTest = finalWeights != null;
    if (resumeFrom != null) {
      try (NDManager m = NDManager.newBaseManager();
          LlamaModel model = LlamaModel.load(modelDir, m)) {
        LoraAdapter adapter = lora(model, m);
        model.useFp16Compute();
        GradScaler scaler = scaler(true);
        // Stopped by its checkpointer after step 7, as a preempted trainer would be.
        assertThrows(
            CancellationException.class,
            () ->
                FineTuner.run(
                    job(model, adapter, m, resumeTest)
                        .optGradScaler(scaler)
                        .optCheckpointer(
                            7,
                            (step, opt) -> {
                              Checkpoints.write(resumeFrom, step, adapter, opt, scaler, "tiny", 1);
                              throw new CancellationException("stopped after step " + step);
                            })
                        .build()));
      }
    }
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      LoraAdapter adapter = lora(model, m);
      Map<String, byte[]> frozen = new LinkedHashMap<>();
      FineTuner.TrainingJob.Builder job = job(model, adapter, m, resumeTest);
      if (fp16) {
        long bytes32 = baseBytes(model);
        long bytes16 = model.useFp16Compute();
        assertTrue(bytes16 < 0.6 * bytes32, "fp16 base " + bytes16 + " of " + bytes32 + " bytes");
        System.out.printf(
            "base weights: fp32 %d bytes, fp16 %d bytes (%.3fx)%n",
            bytes32, bytes16, (double) bytes16 / bytes32);
        for (String name : model.weightNames()) {
          NDArray w = model.weight(name);
          DataType expected = name.endsWith("norm.weight") ? DataType.FLOAT32 : DataType.FLOAT16;
          assertEquals(expected, w.getDataType(), name);
          frozen.put(name, w.toByteArray());
        }
        job.optGradScaler(scaler(resumeTest));
      }
      if (resumeFrom != null) {
        job.optResume(Checkpoints.read(Checkpoints.latest(resumeFrom).orElseThrow(), adapter));
      }
      TrainingResult result = FineTuner.run(job.build());
      for (Map.Entry<String, byte[]> e : frozen.entrySet()) {
        assertArrayEquals(e.getValue(), model.weight(e.getKey()).toByteArray(), e.getKey());
      }
      for (Map.Entry<String, NDArray> p : adapter.namedParameters().entrySet()) {
        assertEquals(DataType.FLOAT32, p.getValue().getDataType(), "master " + p.getKey());
        if (finalWeights != null) {
          finalWeights.put(p.getKey(), p.getValue().toFloatArray());
        }
      }
      return result;
    }
  }

  private static GradScaler scaler(boolean aggressive) {
    return aggressive
        ? GradScaler.builder().optInitScale(1 << 30).optGrowthInterval(3).build()
        : GradScaler.builder().build();
  }

  private static long baseBytes(LlamaModel model) {
    long bytes = 0;
    for (String name : model.weightNames()) {
      NDArray w = model.weight(name);
      bytes += w.size() * w.getDataType().getNumOfBytes();
    }
    return bytes;
  }

  private static LoraAdapter lora(LlamaModel model, NDManager m) {
    return LoraAdapter.apply(
        LoraConfig.builder()
            .setRank(8)
            .optAlpha(16)
            .optDropout(0.05)
            .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
            .build(),
        model,
        m,
        42);
  }

  private static FineTuner.TrainingJob.Builder job(
      LlamaModel model, LoraAdapter adapter, NDManager m, boolean resumeTest) {
    TrainingOptions.Builder opts =
        TrainingOptions.builder()
            .optBatchSize(8)
            .optLearningRate(1e-2)
            .optWarmupRatio(0.1)
            .optLrScheduler(LrSchedule.Type.COSINE)
            .optEvalEverySteps(resumeTest ? 0 : 8)
            .optPadTokenId(TinyModels.PAD);
    if (resumeTest) {
      opts.optMaxSteps(12).optEpochs(0);
    } else {
      opts.optEpochs(8);
    }
    return FineTuner.TrainingJob.builder()
        .setModel(CausalLm.of(model))
        .setParameters(adapter.parameters())
        .optTrainingMode(adapter::setTraining)
        .setTrainData(FixedCompletion.examples(32, 1))
        .optValidationData(resumeTest ? List.of() : FixedCompletion.examples(8, 2))
        .setOptions(opts.build())
        .setManager(m);
  }
}
