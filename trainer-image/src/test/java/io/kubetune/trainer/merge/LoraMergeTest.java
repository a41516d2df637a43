package io.kubetune.trainer.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.full.HfModelExporter;
import io.kubetune.trainer.full.TransformersLogits;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.lora.LoraLinear;
import io.kubetune.trainer.model.DenseLinear;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merging folds {@code scale * B A} into the base weights: the merged model (in memory, reloaded
 * from its HF folder, and in transformers) gives the logits of base plus adapter.
 */
class LoraMergeTest {

  private static final int[] IDS = {1, 8, 9, 10, 11, 12, 13, 14, 20, 21, 22, 5};

  @TempDir Path dir;

  @Test
  void mergedModelGivesTheLogitsOfBasePlusAdapterHereAndInTransformers() throws Exception {
    Path base =
        TinyModels.llama().layers(2).kvHeads(2).tied(false).seed(12).write(dir.resolve("base"));
    Path adapterDir = dir.resolve("adapter");
    Path merged = dir.resolve("merged");
    try (NDManager m = NDManager.newBaseManager()) {
      float[] expected;
      try (LlamaModel model = LlamaModel.load(base, m)) {
        LoraAdapter adapter =
            LoraAdapter.apply(
                LoraConfig.builder()
                    .setRank(4)
                    .optAlpha(8)
                    .optTargetModules(
                        List.of(
                            "q_proj",
                            "k_proj",
                            "v_proj",
                            "o_proj",
                            "gate_proj",
                            "up_proj",
                            "down_proj",
                            "lm_head"))
                    .build(),
                model,
                m,
                3);
        // B starts at zero (PEFT init); a trained adapter has non-zero B.
        Random r = new Random(5);
        for (LoraLinear l : adapter.layers().values()) {
          float[] b = new float[(int) l.loraB().getShape().size()];
          for (int i = 0; i < b.length; i++) {
            b[i] = (float) (r.nextGaussian() * 0.05);
          }
          l.loraB().set(b);
        }
        adapter.setTraining(false);
        expected = logits(model, m);
        float[] baseOnly;
        PeftAdapter.export(adapter, adapterDir, base.toString());
        try (LlamaModel plain = LlamaModel.load(base, m)) {
          baseOnly = logits(plain, m);
        }
        assertTrue(maxDiff(expected, baseOnly) > 1e-2, "the adapter must change the logits");
      }

      try (LlamaModel model = LlamaModel.load(base, m)) {
        List<String> mergedModules = LoraMerge.merge(model, adapterDir);
        assertEquals(2 * 7 + 1, mergedModules.size(), mergedModules.toString());
        for (Linear l : model.linears().values()) {
          assertTrue(l instanceof DenseLinear, "no LoRA wrapper is left: " + l);
        }
        float diff = maxDiff(expected, logits(model, m));
        assertTrue(diff < 1e-4, "merged vs base+adapter: " + diff);
        HfModelExporter.builder().setSource(base).build().export(model, merged);
      }
      try (LlamaModel reloaded = LlamaModel.load(merged, m)) {
        float diff = maxDiff(expected, logits(reloaded, m));
        assertTrue(diff < 1e-4, "reloaded merged folder vs base+adapter: " + diff);
        TransformersLogits.assertAgrees(merged, reloaded, 1e-4f, dir);
      }
    }
  }

  @Test
  void anAdapterOnATiedLmHeadIsRefusedAndTheModelIsLeftUnchanged() throws Exception {
    Path base = TinyModels.llama().layers(1).tied(true).seed(2).write(dir.resolve("tied"));
    Path adapterDir = dir.resolve("adapter");
    try (NDManager m = NDManager.newBaseManager()) {
      try (LlamaModel model = LlamaModel.load(base, m)) {
        LoraAdapter adapter =
            LoraAdapter.apply(
                LoraConfig.builder().setRank(2).optTargetModules(List.of("lm_head")).build(),
                model,
                m,
                1);
        PeftAdapter.export(adapter, adapterDir, base.toString());
      }
      try (LlamaModel model = LlamaModel.load(base, m)) {
        float[] before = model.weight("model.embed_tokens.weight").toFloatArray();
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> LoraMerge.merge(model, adapterDir));
        assertTrue(e.getMessage().contains("tie_word_embeddings"), e.getMessage());
        assertTrue(model.linear("lm_head") instanceof DenseLinear);
        assertFalse(
            maxDiff(before, model.weight("model.embed_tokens.weight").toFloatArray()) > 0,
            "the embeddings must not change");
      }
    }
  }

  @Test
  void aMissingAdapterFolderIsAClearError() throws Exception {
    Path base = TinyModels.llama().layers(1).seed(2).write(dir.resolve("base"));
    try (LlamaModel model = LlamaModel.load(base)) {
      Exception e =
          assertThrows(Exception.class, () -> LoraMerge.merge(model, dir.resolve("nothing")));
      assertTrue(e.getMessage().contains("nothing"), e.getMessage());
    }
  }

  private static float[] logits(LlamaModel model, NDManager m) {
    try (NDManager step = m.newSubManager()) {
      NDArray ids = step.create(IDS, new Shape(1, IDS.length));
      return model.forward(ids, null, null).toFloatArray();
    }
  }

  private static float maxDiff(float[] a, float[] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
