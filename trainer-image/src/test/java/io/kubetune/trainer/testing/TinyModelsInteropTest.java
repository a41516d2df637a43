package io.kubetune.trainer.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.model.HfTokenizer;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The folders {@link TinyModels} writes are real Hugging Face models: transformers loads them (as
 * PEFT will for adapter checks) and computes the logits we compute.
 */
class TinyModelsInteropTest {

  @TempDir Path dir;

  @Test
  void transformersLoadsOurFoldersAndAgreesWithOurLogits() throws IOException {
    List<Path> folders =
        List.of(
            TinyModels.llama().seed(1).write(dir.resolve("gqa")),
            TinyModels.llama()
                .seed(2)
                .tied(true)
                .llama3Rope(true)
                .kvHeads(1)
                .write(dir.resolve("tied")),
            TinyModels.llama().seed(3).dtype(DType.BF16).write(dir.resolve("bf16")));
    Path out = dir.resolve("logits.safetensors");
    String[] args = new String[folders.size() + 1];
    args[0] = out.toString();
    for (int i = 0; i < folders.size(); i++) {
      args[i + 1] = folders.get(i).toString();
    }
    JsonNode report =
        new ObjectMapper()
            .readTree(PythonReference.runOk("model_load.py", Duration.ofMinutes(3), args));
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsFile ref = SafetensorsFile.open(out)) {
      for (int i = 0; i < folders.size(); i++) {
        Path folder = folders.get(i);
        JsonNode entry = report.get(i);
        assertEquals("LlamaForCausalLM", entry.get("model_class").asText());
        try (LlamaModel model = LlamaModel.load(folder, manager);
            HfTokenizer tok = HfTokenizer.load(folder)) {
          int[] ids = tok.encode("hello world , what is the capital of france ?");
          int[] theirs = new int[entry.get("ids").size()];
          for (int j = 0; j < theirs.length; j++) {
            theirs[j] = entry.get("ids").get(j).asInt();
          }
          assertArrayEquals(theirs, ids, folder.toString());
          NDArray logits = model.forward(ref.load(manager, i + ".ids"), null, null);
          float diff = logits.sub(ref.loadFloat32(manager, i + ".logits")).abs().max().getFloat();
          assertTrue(diff < 1e-4f, folder + ": max abs logit difference " + diff);
        }
        String chat = entry.get("chat").asText();
        assertTrue(
            chat.startsWith("<|im_start|>system\nyou are a helpful model<|im_end|>\n")
                && chat.endsWith("<|im_start|>assistant\n"),
            chat);
      }
    }
  }
}
