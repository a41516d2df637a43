package io.kubetune.trainer.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.train.ReferencePython;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEFT loads our exported adapter onto the transformers model and computes our logits. */
class PeftInteropTest {

  @TempDir Path dir;

  @Test
  void peftReproducesOurLogitsAllLinear() throws Exception {
    check(
        LoraConfig.builder()
            .setRank(4)
            .optAlpha(8)
            .optTargetModules(List.of("all-linear"))
            .build());
  }

  @Test
  void peftReproducesOurLogitsRsloraSubset() throws Exception {
    check(
        LoraConfig.builder()
            .setRank(8)
            .optAlpha(4)
            .optUseRslora(true)
            .optTargetModules(List.of("q_proj", "v_proj", "down_proj"))
            .build());
  }

  private void check(LoraConfig config) throws Exception {
    Path modelDir = dir.resolve("model");
    Path adapterDir = dir.resolve("adapter");
    ReferencePython.run(
        "peft_reference.py",
        Map.of(
            "mode",
            "make-model",
            "dir",
            modelDir.toString(),
            "seed",
            3,
            "config",
            Map.of(
                "vocab_size", 96,
                "hidden_size", 32,
                "intermediate_size", 48,
                "num_hidden_layers", 2,
                "num_attention_heads", 4,
                "num_key_value_heads", 2,
                "max_position_embeddings", 64)));
    long[][] ids = {{1, 17, 33, 5, 90, 2, 64, 8}, {3, 4, 5, 6, 7, 8, 9, 10}};
    long[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 1}};
    float[] ours;
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      LoraAdapter adapter = LoraAdapter.apply(config, model.linears(), model::replaceLinear, m, 7);
      // B starts at zero; random B makes the adapter change the logits.
      Random r = new Random(5);
      for (NDArray p : adapter.parameters()) {
        float[] v = p.toFloatArray();
        for (int i = 0; i < v.length; i++) {
          v[i] = v[i] == 0 ? (float) r.nextGaussian() * 0.2f : v[i];
        }
        p.set(v);
      }
      PeftAdapter.export(adapter, adapterDir, modelDir.toString());
      NDArray in = m.create(flatten(ids), new Shape(2, 8));
      NDArray am = m.create(flatten(mask), new Shape(2, 8));
      ours = model.forward(in, am, null).toFloatArray();
    }
    JsonNode ref =
        ReferencePython.run(
            "peft_reference.py",
            Map.of(
                "mode",
                "logits",
                "model_dir",
                modelDir.toString(),
                "adapter_dir",
                adapterDir.toString(),
                "input_ids",
                ids,
                "attention_mask",
                mask));
    float[] theirs = new float[ref.get("logits").size()];
    for (int i = 0; i < theirs.length; i++) {
      theirs[i] = (float) ref.get("logits").get(i).asDouble();
    }
    assertTrue(theirs.length == ours.length, "logit count");
    double maxDiff = 0;
    for (int i = 0; i < ours.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
    }
    System.out.printf(
        "PEFT logits vs ours (%s): max abs diff %.3g%n", config.targetModules(), maxDiff);
    assertArrayEquals(theirs, ours, 1e-4f, "max abs diff " + maxDiff);
  }

  private static long[] flatten(long[][] rows) {
    long[] out = new long[rows.length * rows[0].length];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * rows[0].length, rows[0].length);
    }
    return out;
  }
}
