package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelTokenizerTest {
  @TempDir Path tmp;

  @Test
  void chatTemplateFileWinsOverTheConfig() throws Exception {
    Path dir = TinyTokenizers.in(tmp.resolve("m")).config("chat_template", "from config").write();
    Files.writeString(dir.resolve("chat_template.jinja"), "from file");
    try (ModelTokenizer t = ModelTokenizer.load(dir)) {
      assertEquals("from file", t.chatTemplate());
    }
  }

  @Test
  void namedTemplatesUseTheDefault() throws Exception {
    Path dir =
        TinyTokenizers.in(tmp.resolve("m"))
            .config(
                "chat_template",
                List.of(
                    Map.of("name", "tool_use", "template", "tools"),
                    Map.of("name", "default", "template", "plain")))
            .write();
    try (ModelTokenizer t = ModelTokenizer.load(dir)) {
      assertEquals("plain", t.chatTemplate());
    }
  }

  @Test
  void specialTokensMayBeAddedTokenObjects() throws Exception {
    Path dir =
        TinyTokenizers.in(tmp.resolve("m"))
            .config("bos_token", Map.of("content", "<s>", "special", true))
            .config("eos_token", "</s>")
            .write();
    try (ModelTokenizer t = ModelTokenizer.load(dir)) {
      assertEquals(Map.of("bos_token", "<s>", "eos_token", "</s>"), t.specialTokens());
      assertEquals(TinyTokenizers.specialId("</s>"), t.eosId());
      assertNull(t.chatTemplate());
      assertArrayEquals(new int[0], t.prefix(), "no post-processor, no BOS");
    }
  }

  @Test
  void offsetsCountCodePoints() throws Exception {
    Path dir = TinyTokenizers.in(tmp.resolve("m")).write();
    try (ModelTokenizer t = ModelTokenizer.load(dir)) {
      // The emoji is two UTF-16 chars but one code point; "a" after it starts at code point 1.
      ModelTokenizer.Tokens tokens = t.encode("😀a");
      int last = tokens.ids().length - 1;
      assertEquals(1, tokens.start()[last]);
      assertEquals(2, tokens.end()[last]);
    }
  }

  @Test
  void aModelWithoutTokenizerJsonIsNamed() {
    IOException e = assertThrows(IOException.class, () -> ModelTokenizer.load(tmp));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
