package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our LoRA training loss, step by step, against PEFT + transformers trained by a plain torch loop
 * from the same initial adapter, data order and hyperparameters.
 */
class LoraTrainingInteropTest {

  private static final int STEPS = 20;

  @TempDir Path dir;

  @Test
  void perStepLossMatchesPeft() throws Exception {
    Path modelDir = dir.resolve("model");
    Path adapterDir = dir.resolve("init-adapter");
    ReferencePython.run(
        "peft_reference.py",
        Map.of(
            "mode",
            "make-model",
            "dir",
            modelDir.toString(),
            "seed",
            4,
            "config",
            Map.of(
                "vocab_size", 80,
                "hidden_size", 48,
                "intermediate_size", 96,
                "num_hidden_layers", 2,
                "num_attention_heads", 4,
                "num_key_value_heads", 2,
                "max_position_embeddings", 64)));
    List<TrainingExample> data = data(22, 9);
    TrainingOptions options =
        TrainingOptions.builder()
            .optMaxSteps(STEPS)
            .optBatchSize(4)
            .optGradientAccumulationSteps(2)
            .optLearningRate(1e-2)
            .optLrScheduler(LrSchedule.Type.COSINE)
            .optWarmupRatio(0.1)
            .optWeightDecay(0.01)
            .optMaxGradNorm(0.5)
            .optShuffle(false)
            .optEvalEverySteps(0)
            .build();
    List<StepRecord> ours = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      LoraConfig config =
          LoraConfig.builder()
              .setRank(4)
              .optAlpha(8)
              .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
              .build();
      LoraAdapter adapter = LoraAdapter.apply(config, model.linears(), model::replaceLinear, m, 11);
      PeftAdapter.export(adapter, adapterDir, modelDir.toString());
      FineTuner.run(
          FineTuner.TrainingJob.builder()
              .setModel(CausalLm.of(model))
              .setParameters(adapter.parameters())
              .optTrainingMode(adapter::setTraining)
              .setTrainData(data)
              .setOptions(options)
              .setManager(m)
              .optListener(
                  new TrainingListener() {
                    @Override
                    public void onStep(StepRecord step) {
                      ours.add(step);
                    }
                  })
              .build());
    }
    List<Map<String, Object>> examples = new ArrayList<>();
    for (TrainingExample e : data) {
      examples.add(Map.of("input_ids", e.inputIds(), "labels", e.labels()));
    }
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("mode", "train");
    input.put("model_dir", modelDir.toString());
    input.put("adapter_dir", adapterDir.toString());
    input.put("examples", examples);
    input.put("batch_size", options.batchSize());
    input.put("accumulation", options.gradientAccumulationSteps());
    input.put("total_steps", STEPS);
    input.put("lr", options.learningRate());
    input.put("weight_decay", options.weightDecay());
    input.put("betas", List.of(options.adamBeta1(), options.adamBeta2()));
    input.put("eps", options.adamEpsilon());
    input.put("max_grad_norm", options.maxGradNorm());
    input.put("schedule", "cosine");
    input.put("warmup_steps", LrSchedule.warmupSteps(options.warmupRatio(), STEPS));
    input.put("pad_id", options.padTokenId());
    JsonNode ref = ReferencePython.run("peft_reference.py", input);

    assertEquals(STEPS, ours.size());
    StringBuilder table = new StringBuilder("step, ours, PEFT:");
    for (int s = 0; s < STEPS; s++) {
      table.append(
          String.format(
              "%n%d %.7f %.7f",
              s + 1, ours.get(s).trainLoss(), ref.get("losses").get(s).asDouble()));
    }
    double maxRel = 0;
    for (int s = 0; s < STEPS; s++) {
      double theirs = ref.get("losses").get(s).asDouble();
      double rel = Math.abs(ours.get(s).trainLoss() - theirs) / Math.abs(theirs);
      maxRel = Math.max(maxRel, rel);
      assertEquals(ref.get("lrs").get(s).asDouble(), ours.get(s).learningRate(), 1e-12, "lr " + s);
      assertTrue(
          rel < 1e-3,
          "step "
              + (s + 1)
              + ": ours "
              + ours.get(s).trainLoss()
              + " vs PEFT "
              + theirs
              + "\n"
              + table);
    }
    double first = ours.get(0).trainLoss();
    double last = ours.get(STEPS - 1).trainLoss();
    assertTrue(last < 0.8 * first, "the run must actually train: " + first + " -> " + last);
    System.out.printf(
        "LoRA training vs PEFT: %d steps, max relative loss difference %.3g (loss %.4f -> %.4f)%n",
        STEPS, maxRel, first, last);
  }

  /** Prompt/completion pairs of varied length; completions follow a learnable rule. */
  private static List<TrainingExample> data(int count, long seed) {
    Random r = new Random(seed);
    List<TrainingExample> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int prompt = 2 + r.nextInt(4);
      int completion = 3 + r.nextInt(6);
      int[] ids = new int[prompt + completion];
      int[] labels = new int[ids.length];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = t < prompt ? 3 + r.nextInt(70) : (ids[t - 1] * 5 + 7) % 80;
        labels[t] = t < prompt ? TrainingExample.IGNORE_INDEX : ids[t];
      }
      out.add(new TrainingExample(ids, labels));
    }
    return out;
  }
}
