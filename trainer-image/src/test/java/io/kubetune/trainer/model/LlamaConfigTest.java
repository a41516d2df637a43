package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaConfigTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A Llama 3.2 1B style config.json (transformers 4 layout). */
  private static ObjectNode llama32() throws IOException {
    return (ObjectNode)
        JSON.readTree(
            """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
             "attention_bias": false, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
             "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 8192,
             "max_position_embeddings": 131072, "mlp_bias": false, "num_attention_heads": 32,
             "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "vocab_size": 128256}
            """);
  }

  private static String error(ObjectNode config) {
    return assertThrows(ModelConfigException.class, () -> LlamaConfig.parse(config, "config.json"))
        .getMessage();
  }

  @Test
  void readsALlama32Config() throws IOException {
    LlamaConfig c = LlamaConfig.parse(llama32(), "config.json");
    assertEquals(64, c.headDim());
    assertEquals(4, c.kvGroups());
    assertEquals(500000.0, c.ropeTheta());
    assertEquals(new LlamaConfig.RopeScaling("llama3", 32, 1, 4, 8192), c.ropeScaling());
    assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
    assertEquals(128000, c.bosTokenId());
    assertNull(c.padTokenId());
    assertTrue(c.tieWordEmbeddings());
    assertEquals("bfloat16", c.torchDtype());
  }

  @Test
  void readsTheTransformers5RopeParametersLayout() throws IOException {
    ObjectNode c = llama32();
    c.remove("rope_theta");
    c.remove("rope_scaling");
    ObjectNode p = c.putObject("rope_parameters");
    p.put("rope_type", "linear").put("factor", 4.0).put("rope_theta", 1000.0);
    c.put("eos_token_id", 2);
    c.remove("torch_dtype");
    c.put("dtype", "float32");
    LlamaConfig parsed = LlamaConfig.parse(c, "config.json");
    assertEquals(1000.0, parsed.ropeTheta());
    assertEquals("linear", parsed.ropeScaling().type());
    assertEquals(4.0, parsed.ropeScaling().factor());
    assertEquals(List.of(2), parsed.eosTokenIds());
    assertEquals("float32", parsed.torchDtype());
    p.put("rope_type", "default");
    assertEquals(LlamaConfig.RopeScaling.NONE, LlamaConfig.parse(c, "config.json").ropeScaling());
  }

  @Test
  void unsupportedRopeScalingNamesTheField() throws IOException {
    ObjectNode c = llama32();
    ((ObjectNode) c.get("rope_scaling")).put("rope_type", "yarn");
    String message = error(c);
    assertTrue(message.contains("rope_scaling.rope_type") && message.contains("yarn"), message);
    c.remove("rope_scaling");
    c.putObject("rope_scaling").put("type", "dynamic").put("factor", 2.0);
    assertTrue(error(c).contains("'dynamic'"));
    ((ObjectNode) c.get("rope_scaling")).put("type", "llama3");
    assertTrue(error(c).contains("rope_scaling.low_freq_factor"));
  }

  @Test
  void otherArchitecturesAreRefusedUnlessTheMathIsIdentical() throws IOException {
    ObjectNode c = llama32();
    c.put("model_type", "gemma");
    assertTrue(error(c).contains("model_type"));
    c.put("model_type", "mistral");
    c.put("sliding_window", 4096);
    String message = error(c);
    assertTrue(message.contains("sliding_window"), message);
    c.putNull("sliding_window");
    assertEquals("mistral", LlamaConfig.parse(c, "config.json").modelType());
    c.put("model_type", "qwen2");
    c.put("use_sliding_window", false);
    assertTrue(LlamaConfig.parse(c, "config.json").qkvBias());
    c.put("model_type", "llama");
    c.put("hidden_act", "gelu");
    assertTrue(error(c).contains("hidden_act"));
  }

  @Test
  void badShapesNameTheField() throws IOException {
    ObjectNode c = llama32();
    c.put("num_key_value_heads", 5);
    assertTrue(error(c).contains("num_key_value_heads"));
    c = llama32();
    c.remove("vocab_size");
    assertTrue(error(c).contains("'vocab_size': is required"));
    c = llama32();
    c.put("hidden_size", "big");
    assertTrue(error(c).contains("hidden_size"));
    c = llama32();
    c.put("partial_rotary_factor", 0.5);
    assertTrue(error(c).contains("partial_rotary_factor"));
  }

  @Test
  void missingOrBrokenFilesAreNamed(@TempDir Path dir) throws IOException {
    ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfig.load(dir));
    assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("not found"));
    Files.writeString(dir.resolve("config.json"), "{\"model_type\": ");
    e = assertThrows(ModelConfigException.class, () -> LlamaConfig.load(dir));
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
  }

  @Test
  void llama3FrequenciesFollowTheThreeBands() throws IOException {
    LlamaConfig c = LlamaConfig.parse(llama32(), "config.json");
    float[] inv = Rope.inverseFrequencies(c);
    assertEquals(32, inv.length);
    // Highest frequency (wavelength 2π < 8192/4) is untouched; lowest is divided by the factor.
    assertEquals(1.0f, inv[0]);
    float unscaledLowest = (float) (1.0 / Math.pow(500000.0, 62.0 / 64));
    assertEquals(unscaledLowest / 32, inv[31], unscaledLowest * 1e-5f);
  }
}
