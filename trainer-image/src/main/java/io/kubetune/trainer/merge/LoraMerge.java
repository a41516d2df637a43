package io.kubetune.trainer.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraLinear;
import io.kubetune.trainer.model.DenseLinear;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Folds a PEFT LoRA adapter into the base weights, {@code W' = W + scale * B A}, so the model runs
 * without LoRA support (any server, any runtime) and gives the logits of base plus adapter.
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(base)) {
 *   LoraMerge.merge(model, adapterDir);
 *   HfModelExporter.builder().setSource(base).build().export(model, out);
 * }
 * }</pre>
 */
public final class LoraMerge {

  private LoraMerge() {}

  /**
   * Loads the adapter onto the model and folds it in; afterwards the model holds the merged dense
   * weights and no LoRA layers.
   *
   * @return the merged module names, in model order
   * @throws IOException when the adapter folder is missing, invalid, or does not fit the model
   * @throws IllegalArgumentException when the adapter targets {@code lm_head} of a model with tied
   *     embeddings (merging would change the input embeddings too) or a non-dense projection
   */
  public static List<String> merge(LlamaModel model, Path adapterDir) throws IOException {
    boolean tied = model.config().tieWordEmbeddings();
    try (NDManager loraManager = model.manager().newSubManager()) {
      LoraAdapter adapter = PeftAdapter.load(adapterDir, model, loraManager);
      List<String> merged = new ArrayList<>();
      // Validate every target first so a refused adapter is not half merged.
      for (Map.Entry<String, LoraLinear> e : adapter.layers().entrySet()) {
        String name = e.getKey();
        if (tied && name.equals("lm_head")) {
          restore(model, adapter);
          throw new IllegalArgumentException(
              adapterDir
                  + ": the adapter trains lm_head, but the base model ties lm_head to the input"
                  + " embeddings (tie_word_embeddings: true); a merged model cannot represent it."
                  + " Serve this adapter with LoRA support instead of merging it");
        }
        if (!(e.getValue().base() instanceof DenseLinear)) {
          restore(model, adapter);
          throw new IllegalArgumentException(
              name
                  + ": the base projection is not a dense f32 weight (quantized?); load the base"
                  + " model in full precision to merge");
        }
      }
      for (Map.Entry<String, LoraLinear> e : adapter.layers().entrySet()) {
        String name = e.getKey();
        LoraLinear lora = e.getValue();
        NDArray weight = model.weight(name + ".weight");
        NDArray delta = lora.loraB().matMul(lora.loraA()).mul(lora.scale());
        NDArray mergedWeight = weight.add(delta);
        delta.close();
        model.replaceWeight(name + ".weight", mergedWeight);
        merged.add(name);
      }
      restore(model, adapter);
      return merged;
    }
  }

  /** Puts the base projections back in place of the LoRA wrappers. */
  private static void restore(LlamaModel model, LoraAdapter adapter) {
    for (Map.Entry<String, LoraLinear> e : adapter.layers().entrySet()) {
      Linear base = e.getValue().base();
      model.replaceLinear(e.getKey(), current -> base);
    }
  }
}
