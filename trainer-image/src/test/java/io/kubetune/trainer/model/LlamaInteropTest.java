package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.testing.PythonReference;
import io.kubetune.trainer.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our decoder against HF transformers on tiny random models that transformers created and saved:
 * GQA (sharded checkpoint), tied embeddings with llama3 rope scaling, MHA with linear scaling,
 * biases and an explicit head_dim, a bf16 checkpoint, Qwen2 and Mistral.
 */
class LlamaInteropTest {

  /** Agreement required by the issue: f32 logits within 1e-4 max abs. */
  private static final float TOLERANCE = 1e-4f;

  @TempDir static Path work;
  static JsonNode reference;
  static NDManager manager;

  @BeforeAll
  static void runReference() throws IOException {
    Path tok = work.resolve("tokenizer");
    TinyModels.writeTokenizer(tok);
    String out =
        PythonReference.runOk(
            "model_llama.py", Duration.ofMinutes(5), work.toString(), tok.toString());
    reference = new ObjectMapper().readTree(out);
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    if (manager != null) {
      manager.close();
    }
  }

  static Stream<String> cases() {
    return Stream.of(
        "gqa_sharded", "tied_llama3", "mha_linear_bias", "gqa_bf16", "qwen2", "mistral");
  }

  @ParameterizedTest
  @MethodSource("cases")
  void logitsOfARightPaddedBatchMatchTransformers(String name) throws IOException {
    Path folder = work.resolve(name);
    try (LlamaModel model = LlamaModel.load(folder, manager);
        NDManager step = manager.newSubManager();
        SafetensorsFile ref = SafetensorsFile.open(folder.resolve("reference.safetensors"))) {
      NDArray ids = ref.load(step, "input_ids");
      NDArray mask = ref.load(step, "attention_mask");
      NDArray expected = ref.loadFloat32(step, "logits");
      NDArray logits = model.forward(ids, mask, null);
      assertEquals(expected.getShape(), logits.getShape());
      // Only real tokens count: logits at padded positions are never used.
      NDArray real = mask.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).expandDims(2);
      float diff = logits.sub(expected).abs().mul(real).max().getFloat();
      System.out.printf("%s: max |logit diff| = %.3g%n", name, diff);
      assertTrue(diff < TOLERANCE, name + ": max abs logit difference " + diff);
      // Guard against vacuous agreement (e.g. all-zero logits).
      assertTrue(expected.abs().max().getFloat() > 0.5f);
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void greedyGenerationMatchesTransformersGenerate(String name) throws IOException {
    try (LlamaModel model = LlamaModel.load(work.resolve(name), manager)) {
      for (JsonNode g : reference.get("models").get(name).get("generate")) {
        int[] prompt = ints(g.get("prompt"));
        int[] expected = ints(g.get("output"));
        assertTrue(expected.length > 0);
        int[] ours = Generator.generate(model, prompt, GenerationConfig.greedy(12));
        assertArrayEquals(expected, ours, name + " prompt " + g.get("prompt"));
      }
    }
  }

  @Test
  void cachedIncrementalLogitsMatchTransformersFullForward() throws IOException {
    Path folder = work.resolve("tied_llama3");
    try (LlamaModel model = LlamaModel.load(folder, manager);
        NDManager step = manager.newSubManager();
        KvCache cache = model.newCache(step);
        SafetensorsFile ref = SafetensorsFile.open(folder.resolve("reference.safetensors"))) {
      // Row 0 of the reference batch has no padding.
      long[] ids = ref.readLongs("input_ids");
      int t = (int) ref.info("input_ids").shape()[1];
      NDArray expected = ref.loadFloat32(step, "logits").get(new NDIndex("0:1"));
      NDArray first =
          model.forward(
              step.create(new long[] {ids[0], ids[1], ids[2]}, new Shape(1, 3)), null, cache);
      float worst = first.sub(expected.get(new NDIndex(":, 0:3, :"))).abs().max().getFloat();
      for (int i = 3; i < t; i++) {
        NDArray one = model.forward(step.create(new long[] {ids[i]}, new Shape(1, 1)), null, cache);
        worst =
            Math.max(
                worst,
                one.sub(expected.get(new NDIndex(":, {}:{}, :", i, i + 1))).abs().max().getFloat());
      }
      assertTrue(worst < TOLERANCE, "cached decoding differs by " + worst);
    }
  }

  @Test
  void shardedAndBf16CheckpointsWereReallyExercised() {
    List<String> sharded = strings(reference.get("models").get("gqa_sharded").get("files"));
    assertTrue(sharded.contains("model.safetensors.index.json"), sharded.toString());
    try (SafetensorsFile f =
        SafetensorsFile.open(work.resolve("gqa_bf16").resolve("model.safetensors"))) {
      assertEquals(
          io.kubetune.trainer.safetensors.DType.BF16, f.info("model.embed_tokens.weight").dtype());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void configsSavedByTransformersParse() throws IOException {
    LlamaConfig tied = LlamaConfig.load(work.resolve("tied_llama3"));
    assertEquals("llama3", tied.ropeScaling().type());
    assertEquals(16, tied.ropeScaling().originalMaxPositionEmbeddings());
    assertTrue(tied.tieWordEmbeddings());
    assertEquals(4, tied.kvGroups());
    LlamaConfig mha = LlamaConfig.load(work.resolve("mha_linear_bias"));
    assertEquals(12, mha.headDim());
    assertEquals("linear", mha.ropeScaling().type());
    assertTrue(mha.attentionBias() && mha.mlpBias());
    assertEquals(500000.0, LlamaConfig.load(work.resolve("gqa_bf16")).ropeTheta());
  }

  @Test
  void tokenIdsMatchTheTransformersTokenizer() throws IOException {
    try (HfTokenizer tok = HfTokenizer.load(work.resolve("tokenizer"))) {
      for (JsonNode t : reference.get("tokens")) {
        String text = t.get("text").asText();
        assertArrayEquals(ints(t.get("with_special")), tok.encode(text), "with specials: " + text);
        assertArrayEquals(
            ints(t.get("without_special")), tok.encode(text, false), "without: " + text);
      }
      // The long text must not have been truncated by either side.
      assertTrue(reference.get("tokens").get(5).get("with_special").size() > 600);
    }
  }

  private static int[] ints(JsonNode node) {
    int[] out = new int[node.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = node.get(i).asInt();
    }
    return out;
  }

  private static List<String> strings(JsonNode node) {
    List<String> out = new ArrayList<>();
    node.forEach(n -> out.add(n.asText()));
    return out;
  }
}
