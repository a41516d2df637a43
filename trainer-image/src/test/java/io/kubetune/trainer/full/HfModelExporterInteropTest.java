package io.kubetune.trainer.full;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsCheckpoint;
import io.kubetune.trainer.testing.TinyModels;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.TrainingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fully fine-tuned model exported in HF format (sharded with an index, tokenizer copied) loads in
 * transformers and in our loader with the logits and weights of the trained model.
 */
class HfModelExporterInteropTest {

  @TempDir Path dir;

  @Test
  void shardedExportOfAFullyTrainedModelLoadsInTransformersWithOurLogits() throws Exception {
    Path base =
        TinyModels.llama().layers(2).kvHeads(2).tied(false).seed(4).write(dir.resolve("base"));
    Path out = dir.resolve("exported");
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(base, m)) {
      TrainableWeights weights = TrainableWeights.full(model);
      FineTuner.run(
          FineTuner.TrainingJob.builder()
              .setModel(CausalLm.of(model))
              .setParameters(weights.arrays())
              .setTrainData(TrainableWeightsTest.sequences(8, 1))
              .setOptions(
                  TrainingOptions.builder()
                      .optMaxSteps(3)
                      .optBatchSize(8)
                      .optLearningRate(1e-2)
                      .optPadTokenId(TinyModels.PAD)
                      .build())
              .setManager(m)
              .build());
      TrainableWeights.partial(model, 0, java.util.List.of("lm_head")); // export frozen arrays too
      long shardLimit = 40_000;
      HfModelExporter.Exported exported =
          HfModelExporter.builder()
              .setSource(base)
              .optMaxShardBytes(shardLimit)
              .build()
              .export(model, out);

      assertTrue(exported.shards().size() > 1, "expected several shards: " + exported.shards());
      assertFalse(Files.exists(out.resolve(SafetensorsCheckpoint.SINGLE_FILE)));
      JsonNode index =
          new ObjectMapper().readTree(out.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile());
      Set<String> files = new HashSet<>();
      index.get("weight_map").forEach(f -> files.add(f.asText()));
      assertEquals(exported.shards().size(), files.size());
      assertEquals(model.weightNames().size(), index.get("weight_map").size());
      assertEquals(exported.weightBytes(), index.get("metadata").get("total_size").asLong());
      for (Path shard : exported.shards()) {
        // A single tensor larger than the limit may exceed it; ours are all smaller.
        assertTrue(Files.size(shard) < shardLimit + 4096, shard + " is " + Files.size(shard));
      }
      assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
      assertTrue(Files.isRegularFile(out.resolve("tokenizer_config.json")));
      assertEquals(
          "float32",
          new ObjectMapper()
              .readTree(out.resolve("config.json").toFile())
              .get("torch_dtype")
              .asText());

      try (LlamaModel reloaded = LlamaModel.load(out, m)) {
        for (String name : model.weightNames()) {
          assertArrayEquals(
              model.weight(name).toFloatArray(), reloaded.weight(name).toFloatArray(), 0f, name);
        }
      }
      float diff = TransformersLogits.assertAgrees(out, model, 1e-4f, dir);
      System.out.printf(
          "HF export (%d shards): max |logit diff| vs transformers %.2e%n",
          exported.shards().size(), diff);
    }
  }

  @Test
  void f16ExportOfATiedModelIsOneFileThatTransformersLoads() throws Exception {
    Path base = TinyModels.llama().layers(1).tied(true).seed(8).write(dir.resolve("base"));
    Path out = dir.resolve("f16");
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(base, m)) {
      HfModelExporter.Exported exported =
          HfModelExporter.builder().setSource(base).optDtype(DType.F16).build().export(model, out);
      assertEquals(1, exported.shards().size());
      assertFalse(Files.exists(out.resolve(SafetensorsCheckpoint.INDEX_FILE)));
      try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(out)) {
        assertEquals(DType.F16, ckpt.info("model.embed_tokens.weight").dtype());
        assertFalse(ckpt.contains("lm_head.weight"), "tied models store the embedding once");
      }
      // transformers upcasts the f16 weights as our loader does; compare against the reloaded copy.
      try (LlamaModel reloaded = LlamaModel.load(out, m)) {
        TransformersLogits.assertAgrees(out, reloaded, 1e-4f, dir);
      }
    }
  }
}
