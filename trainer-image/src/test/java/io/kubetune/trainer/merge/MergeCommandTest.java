package io.kubetune.trainer.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.SafetensorsCheckpoint;
import io.kubetune.trainer.testing.TinyModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code merge} command writes a loadable model, and refuses bad folders with exit code 2. */
class MergeCommandTest {

  @TempDir Path dir;

  @Test
  void mergeWritesAShardedModelFolder() throws Exception {
    Path base = TinyModels.llama().layers(1).tied(false).seed(6).write(dir.resolve("base"));
    Path adapter = dir.resolve("adapter");
    try (LlamaModel model = LlamaModel.load(base)) {
      LoraAdapter lora =
          LoraAdapter.apply(LoraConfig.builder().setRank(2).build(), model, model.manager(), 1);
      PeftAdapter.export(lora, adapter, base.toString());
    }
    Path out = dir.resolve("merged");
    int code =
        new CommandLine(new MergeCommand())
            .execute(
                "--base", base.toString(),
                "--adapter", adapter.toString(),
                "--out", out.toString(),
                "--max-shard-bytes", "30000");
    assertEquals(0, code);
    assertTrue(Files.isRegularFile(out.resolve(SafetensorsCheckpoint.INDEX_FILE)));
    try (LlamaModel merged = LlamaModel.load(out)) {
      // One layer (two norms, seven projections) plus embeddings, final norm and untied lm_head.
      assertEquals(12, merged.weightNames().size());
    }
  }

  @Test
  void aMissingAdapterFolderExitsWithTwoAndSaysWhichFlag() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream old = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code =
          new CommandLine(new MergeCommand())
              .execute(
                  "--base", dir.toString(),
                  "--adapter", dir.resolve("missing").toString(),
                  "--out", dir.resolve("o").toString());
    } finally {
      System.setErr(old);
    }
    assertEquals(2, code);
    String message = err.toString(StandardCharsets.UTF_8);
    assertTrue(message.contains("missing") && message.contains("--adapter"), message);
  }
}
