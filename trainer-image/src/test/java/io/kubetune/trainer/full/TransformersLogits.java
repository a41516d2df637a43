package io.kubetune.trainer.full;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.testing.PythonReference;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Loads a model folder with transformers ({@code model_load.py}) and compares its logits to ours.
 */
public final class TransformersLogits {

  private TransformersLogits() {}

  /**
   * Asserts that transformers loads {@code folder} as a {@code LlamaForCausalLM} and that its
   * logits on the probe text are within {@code tolerance} of {@code ours}' logits on the same ids.
   *
   * @return the largest absolute logit difference
   */
  public static float assertAgrees(Path folder, LlamaModel ours, float tolerance, Path scratch)
      throws IOException {
    Path out = scratch.resolve("transformers-logits.safetensors");
    JsonNode report =
        new ObjectMapper()
            .readTree(
                PythonReference.runOk(
                    "model_load.py", Duration.ofMinutes(3), out.toString(), folder.toString()));
    assertEquals("LlamaForCausalLM", report.get(0).get("model_class").asText());
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsFile ref = SafetensorsFile.open(out)) {
      NDArray logits = ours.forward(ref.load(manager, "0.ids"), null, null);
      float diff = logits.sub(ref.loadFloat32(manager, "0.logits")).abs().max().getFloat();
      assertTrue(diff < tolerance, folder + ": max abs logit difference " + diff);
      return diff;
    }
  }
}
