package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaModelTest {

  @TempDir static Path dir;
  static LlamaModel model;
  static NDManager manager;

  @BeforeAll
  static void load() throws IOException {
    Path folder = TinyModels.llama().llama3Rope(true).seed(3).write(dir.resolve("gqa"));
    manager = NDManager.newBaseManager();
    model = LlamaModel.load(folder, manager);
  }

  @AfterAll
  static void close() {
    model.close();
    manager.close();
  }

  private static float maxAbsDiff(NDArray a, NDArray b) {
    return a.sub(b).abs().max().getFloat();
  }

  @Test
  void exposesEveryProjectionByHuggingFaceName() {
    Set<String> names = model.linears().keySet();
    assertEquals(2 * 7 + 1, names.size());
    assertTrue(names.contains("model.layers.1.self_attn.k_proj"));
    assertTrue(names.contains("model.layers.0.mlp.down_proj"));
    assertTrue(names.contains("lm_head"));
    Linear k = model.linear("model.layers.0.self_attn.k_proj");
    assertEquals(32, k.inFeatures());
    assertEquals(16, k.outFeatures());
    assertTrue(k.trainableParameters().isEmpty());
    assertTrue(model.weightNames().contains("model.layers.0.input_layernorm.weight"));
  }

  @Test
  void rightPaddingDoesNotChangeTheLogitsOfRealTokens() {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      int[] a = {1, 10, 11, 12, 13, 14};
      int[] b = {1, 20, 21};
      NDArray batch =
          manager.create(new int[] {1, 10, 11, 12, 13, 14, 1, 20, 21, 3, 3, 3}, new Shape(2, 6));
      NDArray mask =
          manager.create(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, new Shape(2, 6));
      NDArray logits = model.forward(batch, mask, null);
      assertEquals(new Shape(2, 6, TinyModels.vocabSize()), logits.getShape());
      NDArray alone = model.forward(manager.create(b, new Shape(1, 3)), null, null);
      NDArray aAlone = model.forward(manager.create(a, new Shape(1, 6)), null, null);
      assertTrue(maxAbsDiff(logits.get("1:2, 0:3, :"), alone) < 1e-5f);
      assertTrue(maxAbsDiff(logits.get("0:1, :, :"), aAlone) < 1e-5f);
      NDArray hidden = model.hiddenStates(batch, mask, null);
      assertEquals(new Shape(2, 6, 32), hidden.getShape());
      assertTrue(maxAbsDiff(model.linear("lm_head").forward(hidden), logits) < 1e-6f);
      // The padded row must differ from its first token's row, or the test proves nothing.
      assertTrue(maxAbsDiff(alone.get("0, 0, :"), alone.get("0, 2, :")) > 1e-3f);
    }
  }

  @Test
  void cachedIncrementalLogitsEqualTheFullForward() {
    int[] ids = {1, 10, 11, 12, 13, 14, 15, 16};
    try (NDManager step = manager.newSubManager();
        KvCache cache = model.newCache(step)) {
      NDArray full = model.forward(step.create(ids, new Shape(1, ids.length)), null, null);
      NDArray prefix =
          model.forward(step.create(new int[] {1, 10, 11, 12, 13}, new Shape(1, 5)), null, cache);
      assertTrue(maxAbsDiff(prefix, full.get(new NDIndex(":, 0:5, :"))) < 1e-5f);
      for (int i = 5; i < ids.length; i++) {
        NDArray one = model.forward(step.create(new int[] {ids[i]}, new Shape(1, 1)), null, cache);
        assertTrue(maxAbsDiff(one.squeeze(1), full.get(new NDIndex(":, {}, :", i))) < 1e-5f);
      }
      assertEquals(ids.length, cache.length());
    }
  }

  @Test
  void repeatedForwardsInScopesLeaveNoArraysBehind() {
    BaseNDManager weights = (BaseNDManager) model.manager();
    int weightArrays = weights.getManagedArrays().size();
    try (NDManager caller = manager.newSubManager()) {
      BaseNDManager callerBase = (BaseNDManager) caller;
      NDArray mask = caller.create(new int[] {1, 1, 1, 0}, new Shape(1, 4));
      int before = callerBase.getManagedArrays().size();
      for (int i = 0; i < 50; i++) {
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          NDArray ids = caller.create(new int[] {1, 10 + i % 20, 11, 3}, new Shape(1, 4));
          float loss = model.forward(ids, mask, null).mean().getFloat();
          assertTrue(Float.isFinite(loss));
        }
        assertEquals(before, callerBase.getManagedArrays().size(), "caller arrays at step " + i);
      }
      assertEquals(weightArrays, weights.getManagedArrays().size());
      // Even without a scope nothing lands in the model's manager: the caller owns everything.
      try (NDManager unscoped = caller.newSubManager()) {
        model.forward(unscoped.create(new int[] {1, 10, 11}, new Shape(1, 3)), null, null);
        assertTrue(((BaseNDManager) unscoped).getManagedArrays().size() > 10);
      }
      assertEquals(weightArrays, weights.getManagedArrays().size());
      // Generation manages its own cache and scopes.
      Generator.generate(model, new int[] {1, 10, 11}, GenerationConfig.greedy(10));
      assertEquals(weightArrays, weights.getManagedArrays().size());
    }
  }

  @Test
  void gradientsOfABaseWeightMatchFiniteDifferences() throws IOException {
    Path folder = TinyModels.llama().seed(13).write(dir.resolve("grad"));
    String name = "model.layers.0.self_attn.q_proj.weight";
    try (LlamaModel trained = LlamaModel.load(folder, manager);
        LlamaModel probe = LlamaModel.load(folder, manager);
        NDManager step = manager.newSubManager()) {
      NDArray ids = step.create(new int[] {1, 10, 11, 12, 3}, new Shape(1, 5));
      NDArray mask = step.create(new int[] {1, 1, 1, 1, 0}, new Shape(1, 5));
      NDArray probeWeights =
          step.randomNormal(0, 1, new Shape(1, 5, TinyModels.vocabSize()), DataType.FLOAT32);
      NDArray w = trained.weight(name);
      w.setRequiresGradient(true);
      float[] grad;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = trained.forward(ids, mask, null).mul(probeWeights).sum();
        gc.backward(loss);
        grad = w.getGradient().toFloatArray();
      }
      float[] base = w.toFloatArray();
      float eps = 1e-2f;
      for (int index : new int[] {0, 37, 500, base.length - 1}) {
        float[] loss = new float[2];
        for (int sign = 0; sign < 2; sign++) {
          float[] perturbed = base.clone();
          perturbed[index] += sign == 0 ? eps : -eps;
          probe.replaceWeight(name, step.create(perturbed, w.getShape()));
          loss[sign] = probe.forward(ids, mask, null).mul(probeWeights).sum().getFloat();
        }
        float numeric = (loss[0] - loss[1]) / (2 * eps);
        assertEquals(
            numeric, grad[index], 2e-2f * Math.max(1f, Math.abs(numeric)), "element " + index);
      }
    }
  }

  @Test
  void greedyGenerationEqualsArgmaxOfFullForwards() {
    int[] prompt = {1, 17, 18};
    int[] generated =
        Generator.generate(model, prompt, GenerationConfig.greedy(6).withEosTokenIds(Set.of()));
    assertEquals(6, generated.length);
    int[] seq = prompt;
    for (int expected : generated) {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray logits = model.forward(manager.create(seq, new Shape(1, seq.length)), null, null);
        assertEquals(expected, (int) logits.get(0, seq.length - 1).argMax().getLong());
      }
      int[] next = java.util.Arrays.copyOf(seq, seq.length + 1);
      next[seq.length] = expected;
      seq = next;
    }
  }

  @Test
  void generationStopsAtEos() {
    int[] prompt = {1, 17, 18};
    int[] free =
        Generator.generate(model, prompt, GenerationConfig.greedy(5).withEosTokenIds(Set.of()));
    int[] stopped =
        Generator.generate(
            model, prompt, GenerationConfig.greedy(5).withEosTokenIds(Set.of(free[1])));
    int expectedLength = free[0] == free[1] ? 1 : 2;
    assertEquals(expectedLength, stopped.length);
    assertEquals(free[1], stopped[stopped.length - 1]);
  }

  @Test
  void generationConfigEosTokensAlsoStopGeneration() throws IOException {
    Path folder = TinyModels.llama().seed(3).llama3Rope(true).write(dir.resolve("genconfig"));
    int[] prompt = {1, 17, 18};
    int[] free =
        Generator.generate(model, prompt, GenerationConfig.greedy(5).withEosTokenIds(Set.of()));
    int stop = free[2];
    Files.writeString(
        folder.resolve("generation_config.json"), "{\"eos_token_id\": [" + stop + ", 7]}");
    try (LlamaModel m = LlamaModel.load(folder, manager)) {
      assertEquals(Set.of(TinyModels.EOS, stop, 7), m.stopTokenIds());
      int[] stopped = Generator.generate(m, prompt, GenerationConfig.greedy(5));
      assertEquals(stop, stopped[stopped.length - 1]);
      assertTrue(stopped.length <= 3);
    }
    Files.writeString(folder.resolve("generation_config.json"), "{\"eos_token_id\": \"x\"}");
    ModelConfigException e =
        assertThrows(ModelConfigException.class, () -> LlamaModel.load(folder, manager));
    assertTrue(e.getMessage().contains("generation_config.json"), e.getMessage());
  }

  @Test
  void seededSamplingIsReproducibleAndTopPNarrowsTheChoice() {
    int[] prompt = {1, 17, 18};
    GenerationConfig hot = GenerationConfig.sampling(8, 1.5f, 1f, 11).withEosTokenIds(Set.of());
    assertArrayEquals(
        Generator.generate(model, prompt, hot), Generator.generate(model, prompt, hot));
    assertNotEquals(
        List.of(Generator.generate(model, prompt, hot)),
        List.of(
            Generator.generate(
                model,
                prompt,
                GenerationConfig.sampling(8, 1.5f, 1f, 12).withEosTokenIds(Set.of()))));
    // A tiny nucleus keeps only the most likely token: sampling becomes greedy.
    GenerationConfig nucleus = GenerationConfig.sampling(8, 1f, 1e-6f, 5).withEosTokenIds(Set.of());
    assertArrayEquals(
        Generator.generate(model, prompt, GenerationConfig.greedy(8).withEosTokenIds(Set.of())),
        Generator.generate(model, prompt, nucleus));
  }

  @Test
  void replaceLinearWrapsAProjectionAndChangesTheOutput() throws IOException {
    Path folder = TinyModels.llama().seed(5).write(dir.resolve("wrap"));
    try (LlamaModel m = LlamaModel.load(folder, manager);
        NDManager step = manager.newSubManager()) {
      NDArray ids = step.create(new int[] {1, 10, 11}, new Shape(1, 3));
      NDArray before = m.forward(ids, null, null);
      String name = "model.layers.1.mlp.up_proj";
      Linear original = m.linear(name);
      m.replaceLinear(
          name,
          base ->
              new Linear() {
                @Override
                public NDArray forward(NDArray x) {
                  return base.forward(x).mul(2);
                }

                @Override
                public int inFeatures() {
                  return base.inFeatures();
                }

                @Override
                public int outFeatures() {
                  return base.outFeatures();
                }

                @Override
                public List<NDArray> trainableParameters() {
                  return List.of();
                }
              });
      assertTrue(maxAbsDiff(before, m.forward(ids, null, null)) > 1e-3f);
      m.replaceLinear(name, wrapped -> original);
      assertTrue(maxAbsDiff(before, m.forward(ids, null, null)) < 1e-6f);
    }
  }

  @Test
  void replacingTheTiedEmbeddingAlsoChangesTheHead() throws IOException {
    Path folder = TinyModels.llama().tied(true).seed(9).write(dir.resolve("tied"));
    try (LlamaModel m = LlamaModel.load(folder, manager)) {
      assertTrue(!m.weightNames().contains("lm_head.weight"));
      NDArray embed = m.weight("model.embed_tokens.weight");
      assertSame(embed, ((DenseLinear) m.linear("lm_head")).weight());
      m.replaceWeight("model.embed_tokens.weight", embed.zerosLike());
      try (NDManager step = manager.newSubManager()) {
        NDArray logits = m.forward(step.create(new int[] {1, 2}, new Shape(1, 2)), null, null);
        assertEquals(0f, logits.abs().max().getFloat());
      }
    }
  }

  @Test
  void halfAndBf16CheckpointsLoadAsWidenedF32() throws IOException {
    Path f32 = TinyModels.llama().seed(21).write(dir.resolve("f32"));
    Path bf16 = TinyModels.llama().seed(21).dtype(DType.BF16).write(dir.resolve("bf16"));
    try (LlamaModel a = LlamaModel.load(f32, manager);
        LlamaModel b = LlamaModel.load(bf16, manager);
        NDManager step = manager.newSubManager()) {
      NDArray ids = step.create(new int[] {1, 10, 11}, new Shape(1, 3));
      float diff = maxAbsDiff(a.forward(ids, null, null), b.forward(ids, null, null));
      // bf16 keeps 8 bits of mantissa: close to, but not equal to, the f32 model.
      assertTrue(diff > 0 && diff < 0.1f, "diff " + diff);
    }
  }

  @Test
  void badInputsAreRejectedWithAMessage() {
    try (NDManager step = manager.newSubManager()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> model.forward(step.create(new int[] {1, 64}, new Shape(1, 2)), null, null));
      assertTrue(e.getMessage().contains("token id 64"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  model.forward(
                      step.create(new int[] {1, 2}, new Shape(1, 2)),
                      step.create(new int[] {1, 1, 1}, new Shape(1, 3)),
                      null));
      assertTrue(e.getMessage().contains("attentionMask"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> model.forward(step.create(new int[300], new Shape(1, 300)), null, null));
      assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
    }
  }

  @Test
  void checkpointThatDoesNotMatchTheConfigNamesTheTensor() throws IOException {
    Path folder = TinyModels.llama().seed(1).write(dir.resolve("bad"));
    String cfg = Files.readString(folder.resolve("config.json"));
    Files.writeString(
        folder.resolve("config.json"),
        cfg.replace("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 3"));
    ModelConfigException e =
        assertThrows(ModelConfigException.class, () -> LlamaModel.load(folder, manager));
    assertTrue(e.getMessage().contains("model.layers.2.input_layernorm.weight"), e.getMessage());
    Files.writeString(
        folder.resolve("config.json"),
        cfg.replace("\"intermediate_size\" : 64", "\"intermediate_size\" : 65"));
    e = assertThrows(ModelConfigException.class, () -> LlamaModel.load(folder, manager));
    assertTrue(
        e.getMessage().contains("gate_proj.weight") && e.getMessage().contains("65"),
        e.getMessage());
  }
}
