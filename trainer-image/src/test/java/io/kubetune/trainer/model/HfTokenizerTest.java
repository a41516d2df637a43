package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {

  @TempDir Path dir;

  @Test
  void specialTokensAndChatTemplateComeFromTokenizerConfig() throws IOException {
    TinyModels.writeTokenizer(dir);
    try (HfTokenizer tok = HfTokenizer.load(dir)) {
      assertEquals(Optional.of(TinyModels.BOS), tok.bosTokenId());
      assertEquals(Optional.of(TinyModels.EOS), tok.eosTokenId());
      assertEquals(Optional.of(TinyModels.PAD), tok.padTokenId());
      assertEquals(Optional.of(TinyModels.CHATML_TEMPLATE), tok.chatTemplate());
      int hello = TinyModels.SPECIAL.size() + TinyModels.WORDS.indexOf("hello");
      int world = TinyModels.SPECIAL.size() + TinyModels.WORDS.indexOf("world");
      assertArrayEquals(new int[] {TinyModels.BOS, hello, world}, tok.encode("hello world"));
      assertArrayEquals(new int[] {hello, world}, tok.encode("hello world", false));
      assertEquals("hello world", tok.decode(new int[] {TinyModels.BOS, hello, world}, true));
      assertEquals(Optional.of(4), tok.tokenId("<|im_start|>"));
      assertEquals(Optional.empty(), tok.tokenId("zebra"));
    }
  }

  @Test
  void chatTemplateFileIsUsedWhenTheConfigHasNone() throws IOException {
    TinyModels.writeTokenizer(dir);
    ObjectMapper json = new ObjectMapper();
    ObjectNode cfg = (ObjectNode) json.readTree(dir.resolve(HfTokenizer.CONFIG_FILE).toFile());
    cfg.remove("chat_template");
    json.writeValue(dir.resolve(HfTokenizer.CONFIG_FILE).toFile(), cfg);
    Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages }}");
    try (HfTokenizer tok = HfTokenizer.load(dir)) {
      assertEquals(Optional.of("{{ messages }}"), tok.chatTemplate());
    }
  }

  @Test
  void missingTokenizerSaysWhatIsNeeded() {
    ModelConfigException e = assertThrows(ModelConfigException.class, () -> HfTokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }

  @Test
  void brokenTokenizerIsNamed() throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nope\"}}");
    ModelConfigException e = assertThrows(ModelConfigException.class, () -> HfTokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
