package io.kubetune.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDigestTest {

  @TempDir Path dir;

  @Test
  void isSha256OfConfigThenShardsInNameOrderWithoutTheIndex() throws IOException {
    Files.writeString(dir.resolve("config.json"), "a");
    // Written out of order: the digest sorts them.
    Files.writeString(dir.resolve("model-00002-of-00002.safetensors"), "c");
    Files.writeString(dir.resolve("model-00001-of-00002.safetensors"), "b");
    Files.writeString(dir.resolve("model.safetensors.index.json"), "ignored");
    Files.writeString(dir.resolve("tokenizer.json"), "ignored");
    // sha256("abc"): config bytes, then shard 1, then shard 2.
    assertEquals(
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ModelDigest.of(dir));
  }

  @Test
  void aFolderWithoutWeightsIsAnError() throws IOException {
    Files.writeString(dir.resolve("config.json"), "{}");
    assertThrows(IOException.class, () -> ModelDigest.of(dir));
  }
}
