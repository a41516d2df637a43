package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Llama loss path that runs {@code lm_head} on label positions only gives the loss, the hits
 * and the gradients of the full-logits path.
 */
class CausalLmTest {

  private static final long IGNORE = TrainingExample.IGNORE_INDEX;

  @TempDir Path dir;

  @Test
  void labelPositionsOnlyMatchFullLogits() throws Exception {
    Path modelDir = TinyModels.llama().layers(2).kvHeads(2).seed(3).write(dir.resolve("model"));
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      LoraAdapter adapter =
          LoraAdapter.apply(
              LoraConfig.builder()
                  .setRank(4)
                  .optAlpha(8)
                  .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
                  .build(),
              model,
              m,
              7);
      // Nonzero B so that every LoRA weight receives a gradient.
      for (NDArray p : adapter.parameters()) {
        p.addi(m.randomNormal(0, 0.02f, p.getShape(), p.getDataType()));
      }
      long[] ids = {5, 9, 11, 3, 8, 2, 7, 6, 4, 10, 12, 13, 14, 15, 16, 17};
      long[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
      long[] labels = {
        IGNORE, IGNORE, IGNORE, 3, 8, 2, IGNORE, 6, IGNORE, IGNORE, 12, 13, IGNORE, 15, IGNORE,
        IGNORE
      };
      Shape shape = new Shape(2, 8);
      CausalLm selected = CausalLm.of(model);
      CausalLm full = (i, a) -> model.forward(i, a, null);
      float[][] a = run(selected, m, ids, mask, labels, shape, adapter);
      float[][] b = run(full, m, ids, mask, labels, shape, adapter);
      assertEquals(b[0][0], a[0][0], 1e-5f * Math.abs(b[0][0]));
      assertEquals(b[0][1], a[0][1]);
      for (int i = 1; i < a.length; i++) {
        assertArrayEquals(b[i], a[i], 1e-6f, "gradient " + i);
      }
    }
  }

  private static float[][] run(
      CausalLm lm,
      NDManager m,
      long[] ids,
      long[] mask,
      long[] labels,
      Shape shape,
      LoraAdapter adapter) {
    List<float[]> out = new ArrayList<>();
    try (NDManager step = m.newSubManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      CausalLmLoss.Sums sums =
          lm.lossSums(
              step.create(ids, shape), step.create(mask, shape), step.create(labels, shape));
      out.add(new float[] {sums.nllSum().getFloat(), sums.correct().getFloat()});
      collector.backward(sums.nllSum());
      for (NDArray p : adapter.parameters()) {
        out.add(p.getGradient().toFloatArray());
      }
      collector.zeroGradients();
    }
    return out.toArray(float[][]::new);
  }
}
