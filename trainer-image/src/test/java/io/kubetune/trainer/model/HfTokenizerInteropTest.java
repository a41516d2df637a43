package io.kubetune.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.testing.PythonReference;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Token ids from our tokenizer wrapper against transformers' AutoTokenizer on the kinds of
 * tokenizers Llama-family models ship: byte-level BPE with a regex split (Llama 3) and Metaspace
 * BPE (Llama 2, Mistral), both adding BOS through the post-processor.
 */
class HfTokenizerInteropTest {

  @TempDir Path work;

  @Test
  void idsAndDecodedTextMatchTransformers() throws IOException {
    JsonNode expected =
        new ObjectMapper()
            .readTree(
                PythonReference.runOk(
                    "model_tokenizers.py", Duration.ofMinutes(3), work.toString()));
    for (String name : new String[] {"bytelevel", "metaspace"}) {
      try (HfTokenizer tok = HfTokenizer.load(work.resolve(name))) {
        assertTrue(tok.bosTokenId().isPresent(), name);
        int compared = 0;
        for (JsonNode row : expected.get(name)) {
          String text = row.get("text").asText();
          int[] with = ints(row.get("with_special"));
          assertArrayEquals(with, tok.encode(text), name + " with specials: " + text);
          assertArrayEquals(
              ints(row.get("without_special")),
              tok.encode(text, false),
              name + " without specials: " + text);
          assertEquals(
              row.get("decoded").asText(), tok.decode(with, true), name + " decode: " + text);
          assertEquals(Optional.of(with[0]), tok.bosTokenId(), name + ": BOS first");
          compared++;
        }
        assertEquals(7, compared);
      }
    }
  }

  private static int[] ints(JsonNode node) {
    int[] out = new int[node.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = node.get(i).asInt();
    }
    return out;
  }
}
