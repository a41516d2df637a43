package io.kubetune.trainer.full;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.TinyModels;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Full and partial fine-tuning train exactly the weights they name, and full training learns. */
class TrainableWeightsTest {

  @TempDir Path dir;

  @Test
  void partialTrainsTheTopLayerAndNamedModulesOnlyAndLeavesTheRestBitIdentical() throws Exception {
    Path modelDir =
        TinyModels.llama().layers(3).kvHeads(2).tied(false).seed(5).write(dir.resolve("m"));
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      Map<String, float[]> before = snapshot(model);
      TrainableWeights weights =
          TrainableWeights.partial(model, 1, List.of("lm_head", "model.norm"));
      Set<String> selected = weights.byName().keySet();
      for (String name : model.weightNames()) {
        boolean expected =
            name.startsWith("model.layers.2.")
                || name.equals("lm_head.weight")
                || name.equals("model.norm.weight");
        assertEquals(expected, selected.contains(name), name);
      }
      train(model, weights, 6, 5e-3);
      for (String name : model.weightNames()) {
        float[] after = model.weight(name).toFloatArray();
        if (selected.contains(name)) {
          assertFalse(Arrays.equals(before.get(name), after), name + " should have trained");
        } else {
          assertArrayEquals(before.get(name), after, 0f, name + " must stay frozen");
        }
      }
    }
  }

  @Test
  void moduleNamesMatchWholePathParts() throws Exception {
    Path modelDir = TinyModels.llama().layers(2).tied(true).seed(1).write(dir.resolve("m"));
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      Set<String> mlp = TrainableWeights.partial(model, 0, List.of("mlp")).byName().keySet();
      assertEquals(6, mlp.size(), mlp.toString());
      assertTrue(mlp.stream().allMatch(n -> n.contains(".mlp.")), mlp.toString());
      // Tied: lm_head is the embedding matrix.
      assertEquals(
          Set.of("model.embed_tokens.weight"),
          TrainableWeights.partial(model, 0, List.of("lm_head")).byName().keySet());
      assertEquals(
          Set.of("model.layers.1.self_attn.q_proj.weight"),
          TrainableWeights.partial(model, 0, List.of("layers.1.self_attn.q_proj"))
              .byName()
              .keySet());
      // Re-selecting unfreezes nothing that the new selection does not name.
      assertFalse(model.weight("model.layers.0.mlp.up_proj.weight").hasGradient());
    }
  }

  @Test
  void badSelectionsNameTheFieldAndTheFix() throws Exception {
    Path modelDir = TinyModels.llama().layers(2).seed(1).write(dir.resolve("m"));
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      IllegalArgumentException unknown =
          assertThrows(
              IllegalArgumentException.class,
              () -> TrainableWeights.partial(model, 0, List.of("mlpp")));
      assertTrue(unknown.getMessage().contains("'mlpp' matches no weight"), unknown.getMessage());
      IllegalArgumentException range =
          assertThrows(
              IllegalArgumentException.class, () -> TrainableWeights.partial(model, 3, List.of()));
      assertTrue(range.getMessage().contains("trainableLayers"), range.getMessage());
      IllegalArgumentException nothing =
          assertThrows(
              IllegalArgumentException.class, () -> TrainableWeights.partial(model, 0, List.of()));
      assertTrue(nothing.getMessage().contains("selects nothing"), nothing.getMessage());
    }
  }

  @Test
  void fullFineTuningTrainsEveryWeightLowersTheLossAndCostsMoreOptimizerMemoryThanLora()
      throws Exception {
    Path modelDir = TinyModels.llama().layers(2).kvHeads(2).seed(9).write(dir.resolve("m"));
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      Map<String, float[]> before = snapshot(model);
      TrainableWeights weights = TrainableWeights.full(model);
      assertEquals(model.weightNames(), weights.byName().keySet());
      long parameters = 0;
      for (String name : model.weightNames()) {
        parameters += before.get(name).length;
      }
      assertEquals(parameters, weights.parameterCount());
      long fullState = TrainableWeights.adamWStateBytes(weights.arrays());
      assertEquals(8 * parameters, fullState, "two f32 moments per parameter");

      TrainingResult result = train(model, weights, 24, 1e-2);
      assertTrue(
          result.finalEval().validLoss() < 0.5 * result.baseline().validLoss(),
          "validation loss " + result.baseline().validLoss() + " -> " + result.finalEval());
      for (String name : model.weightNames()) {
        assertFalse(
            Arrays.equals(before.get(name), model.weight(name).toFloatArray()), name + " trained");
      }
      TrainableWeights.partial(model, 0, List.of("lm_head")); // freezes the rest again
      LoraAdapter lora =
          LoraAdapter.apply(
              LoraConfig.builder()
                  .setRank(4)
                  .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
                  .build(),
              model,
              m,
              1);
      long loraState = TrainableWeights.adamWStateBytes(lora.parameters());
      System.out.printf(
          "AdamW state: full %d bytes, LoRA r=4 all-linear %d bytes (%.1fx)%n",
          fullState, loraState, (double) fullState / loraState);
      assertTrue(loraState < fullState, loraState + " vs " + fullState);
    }
  }

  private static Map<String, float[]> snapshot(LlamaModel model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String name : model.weightNames()) {
      out.put(name, model.weight(name).toFloatArray());
    }
    return out;
  }

  private static TrainingResult train(
      LlamaModel model, TrainableWeights weights, int steps, double lr) {
    return FineTuner.run(
        FineTuner.TrainingJob.builder()
            .setModel(CausalLm.of(model))
            .setParameters(weights.arrays())
            .setTrainData(sequences(16, 1))
            .optValidationData(sequences(4, 2))
            .setOptions(
                TrainingOptions.builder()
                    .optMaxSteps(steps)
                    .optBatchSize(8)
                    .optLearningRate(lr)
                    .optEvalEverySteps(0)
                    .optRestoreBest(false)
                    .optPadTokenId(TinyModels.PAD)
                    .build())
            .setManager(model.manager())
            .build());
  }

  /** Counting sequences: each token is the previous plus one, a pattern any model can learn. */
  static List<TrainingExample> sequences(int count, long seed) {
    Random r = new Random(seed);
    List<TrainingExample> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int start = 4 + r.nextInt(10);
      int[] ids = new int[12];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = start + t;
      }
      out.add(new TrainingExample(ids, ids.clone()));
    }
    return out;
  }
}
