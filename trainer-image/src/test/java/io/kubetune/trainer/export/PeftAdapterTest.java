package io.kubetune.trainer.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.train.ToyLm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {

  private static final LoraConfig LORA =
      LoraConfig.builder()
          .setRank(3)
          .optAlpha(6)
          .optDropout(0.05)
          .optTargetModules(List.of("up_proj", "lm_head"))
          .build();

  @TempDir Path dir;

  private static void randomise(LoraAdapter adapter, long seed) {
    Random r = new Random(seed);
    for (NDArray p : adapter.parameters()) {
      float[] v = new float[Math.toIntExact(p.size())];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) r.nextGaussian() * 0.3f;
      }
      p.set(v);
    }
  }

  @Test
  void roundTripGivesTheSameModel() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm trained = new ToyLm(m, 1);
      LoraAdapter adapter = trained.applyLora(m, LORA, 2);
      randomise(adapter, 3);
      AdapterInfo info = PeftAdapter.export(adapter, dir, "hf://org/tiny");

      JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
      assertEquals("LORA", cfg.get("peft_type").asText());
      assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
      assertEquals(3, cfg.get("r").asInt());
      assertEquals(6, cfg.get("lora_alpha").asInt());
      assertEquals(0.05, cfg.get("lora_dropout").asDouble());
      assertEquals("[\"lm_head\",\"up_proj\"]", cfg.get("target_modules").toString());
      assertEquals("none", cfg.get("bias").asText());
      assertEquals(false, cfg.get("use_dora").asBoolean());
      assertTrue(cfg.get("modules_to_save").isNull());
      assertEquals("hf://org/tiny", cfg.get("base_model_name_or_path").asText());
      try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
        assertArrayEquals(
            new long[] {3, 16},
            f.info("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight").shape());
        assertArrayEquals(
            new long[] {12, 3}, f.info("base_model.model.lm_head.lora_B.weight").shape());
        assertEquals(4, f.tensors().size());
        assertEquals("pt", f.metadata().get("format"));
      }

      ToyLm fresh = new ToyLm(m, 1);
      NDArray ids = m.create(new long[] {1, 5, 7, 2, 3, 11}, new ai.djl.ndarray.types.Shape(2, 3));
      float[] expected = trained.logits(ids, null).toFloatArray();
      assertNotEquals(expected[0], fresh.logits(ids, null).toFloatArray()[0]);
      LoraAdapter loaded =
          PeftAdapter.load(
              dir, fresh.linears, (n, f) -> fresh.linears.put(n, f.apply(fresh.linears.get(n))), m);
      assertArrayEquals(expected, fresh.logits(ids, null).toFloatArray(), 0f);
      assertEquals(List.copyOf(adapter.layers().keySet()), List.copyOf(loaded.layers().keySet()));
      assertEquals(adapter.config().scale(), loaded.config().scale());
      assertEquals(adapter.config().dropout(), loaded.config().dropout());

      // Digest: sha256 over adapter_config.json then adapter_model.safetensors.
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(Files.readAllBytes(dir.resolve("adapter_config.json")));
      sha.update(Files.readAllBytes(dir.resolve("adapter_model.safetensors")));
      assertEquals("sha256:" + HexFormat.of().formatHex(sha.digest()), info.digest());
      randomise(adapter, 4);
      assertNotEquals(info.digest(), PeftAdapter.export(adapter, dir, "hf://org/tiny").digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void badAdapterFoldersGetClearErrors() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      ToyLm model = new ToyLm(m, 1);
      IOException missing =
          assertThrows(
              IOException.class, () -> PeftAdapter.load(dir, model.linears, (n, f) -> {}, m));
      assertTrue(
          missing.getMessage().contains("adapter_config.json is missing"), missing.getMessage());

      ToyLm other = new ToyLm(m, 1);
      LoraAdapter adapter = other.applyLora(m, LORA, 2);
      PeftAdapter.export(adapter, dir, "base");
      String cfg = Files.readString(dir.resolve("adapter_config.json"));
      Files.writeString(dir.resolve("adapter_config.json"), cfg.replace("\"r\" : 3", "\"r\" : 4"));
      IOException shape =
          assertThrows(
              IOException.class, () -> PeftAdapter.load(dir, model.linears, (n, f) -> {}, m));
      assertTrue(shape.getMessage().contains("expected [4, 16]"), shape.getMessage());
      assertTrue(
          model.linears.values().stream()
              .noneMatch(l -> l instanceof io.kubetune.trainer.lora.LoraLinear));

      Files.writeString(
          dir.resolve("adapter_config.json"),
          cfg.replace("\"use_dora\" : false", "\"use_dora\" : true"));
      IOException dora =
          assertThrows(
              IOException.class, () -> PeftAdapter.load(dir, model.linears, (n, f) -> {}, m));
      assertTrue(dora.getMessage().contains("DoRA"), dora.getMessage());
    }
  }
}
