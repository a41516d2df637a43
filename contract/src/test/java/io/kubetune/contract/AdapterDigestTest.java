package io.kubetune.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterDigestTest {

  @TempDir Path dir;

  @Test
  void isSha256OfConfigThenWeights() throws IOException {
    Files.writeString(dir.resolve("adapter_config.json"), "abc");
    Files.write(dir.resolve("adapter_model.safetensors"), new byte[0]);
    // sha256("abc"), a published test vector: the digest is exactly config bytes then weights.
    assertEquals(
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        AdapterDigest.of(dir));
  }

  @Test
  void fileAndByteFormsAgreeAndOrderMatters() throws IOException {
    byte[] config = "{\"r\":8}".getBytes(StandardCharsets.UTF_8);
    byte[] weights = new byte[200_000];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (byte) (i * 31);
    }
    Files.write(dir.resolve("adapter_config.json"), config);
    Files.write(dir.resolve("adapter_model.safetensors"), weights);
    String digest = AdapterDigest.of(dir);
    assertEquals(AdapterDigest.of(config, weights), digest);
    assertNotEquals(AdapterDigest.of(weights, config), digest);
    assertTrue(AdapterDigest.isWellFormed(digest));
  }

  @Test
  void missingWeightsIsAnError() throws IOException {
    Files.writeString(dir.resolve("adapter_config.json"), "{}");
    assertThrows(NoSuchFileException.class, () -> AdapterDigest.of(dir));
  }

  @Test
  void wellFormedness() {
    assertFalse(AdapterDigest.isWellFormed("sha256:ABC"));
    assertFalse(AdapterDigest.isWellFormed("md5:" + "0".repeat(64)));
    assertFalse(AdapterDigest.isWellFormed(null));
    assertTrue(AdapterDigest.isWellFormed("sha256:" + "0".repeat(64)));
  }
}
