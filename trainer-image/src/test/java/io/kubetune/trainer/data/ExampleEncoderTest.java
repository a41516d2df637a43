package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.DatasetErrorCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ids and labels per format, on a byte-level tokenizer whose ids are easy to predict. */
class ExampleEncoderTest {
  @TempDir static Path dir;
  static Path llama;
  static Path plain;

  @BeforeAll
  static void tokenizers() throws Exception {
    llama =
        TinyTokenizers.in(dir.resolve("llama"))
            .bosPostProcessor("<|begin_of_text|>")
            .config("bos_token", "<|begin_of_text|>")
            .config("eos_token", "<|eot_id|>")
            .config("chat_template", ChatTemplateInteropTest.LLAMA3_PLAIN)
            .write();
    plain = TinyTokenizers.in(dir.resolve("plain")).config("eos_token", "</s>").write();
  }

  private static TokenizedExample encode(Path model, String line) throws Exception {
    try (ModelTokenizer tokenizer = ModelTokenizer.load(model)) {
      ChatTemplate template = ChatTemplate.of(tokenizer.chatTemplate(), tokenizer.specialTokens());
      return new ExampleEncoder(tokenizer, template).encode(new LineParser(null).parse(line));
    }
  }

  /** The ids a text tokenizes to without special tokens. */
  private static int[] ids(Path model, String text) throws Exception {
    try (ModelTokenizer tokenizer = ModelTokenizer.load(model)) {
      return tokenizer.encode(text).ids();
    }
  }

  /** The labeled positions' ids, grouped into runs of consecutive labeled positions. */
  private static List<List<Integer>> labeledRuns(TokenizedExample e) {
    List<List<Integer>> runs = new ArrayList<>();
    List<Integer> run = null;
    for (int i = 0; i < e.length(); i++) {
      if (e.labels()[i] == TokenizedExample.IGNORE) {
        run = null;
        continue;
      }
      assertEquals(e.inputIds()[i], e.labels()[i], "labels are not shifted");
      if (run == null) {
        run = new ArrayList<>();
        runs.add(run);
      }
      run.add(e.labels()[i]);
    }
    return runs;
  }

  private static List<Integer> list(int[] a) {
    List<Integer> l = new ArrayList<>();
    for (int x : a) {
      l.add(x);
    }
    return l;
  }

  @Test
  void chatLabelsEveryAssistantTurnWithItsEndOfTurnToken() throws Exception {
    String line =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\","
            + "\"content\":\"hello there\"},{\"role\":\"user\",\"content\":\"more\"},"
            + "{\"role\":\"assistant\",\"content\":\"the end\"}]}";
    TokenizedExample e = encode(llama, line);
    assertEquals(
        List.of(list(ids(llama, "hello there<|eot_id|>")), list(ids(llama, "the end<|eot_id|>"))),
        labeledRuns(e));
    int bos = TinyTokenizers.specialId("<|begin_of_text|>");
    assertEquals(bos, e.inputIds()[0]);
    assertNotEquals(bos, e.inputIds()[1], "no double BOS although tokenizer.json adds one");
  }

  @Test
  void chatMlDoesNotLabelTheNewlineAfterImEnd() throws Exception {
    TokenizedExample e = encode(plain, DatasetSpec.chat("hi", "hello"));
    assertEquals(List.of(list(ids(plain, "hello<|im_end|>"))), labeledRuns(e));
    assertArrayEquals(
        ids(plain, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"),
        e.inputIds());
  }

  @Test
  void instructionAddsBosOnceAndLearnsCompletionPlusEos() throws Exception {
    TokenizedExample e = encode(llama, DatasetSpec.instruction("Q: 2+2?", " 4"));
    int bos = TinyTokenizers.specialId("<|begin_of_text|>");
    int eos = TinyTokenizers.specialId("<|eot_id|>");
    List<Integer> expected = new ArrayList<>(List.of(bos));
    expected.addAll(list(ids(llama, "Q: 2+2? 4")));
    expected.add(eos);
    assertEquals(expected, list(e.inputIds()));
    List<Integer> learned = new ArrayList<>(list(ids(llama, " 4")));
    learned.add(eos);
    assertEquals(List.of(learned), labeledRuns(e));
  }

  @Test
  void instructionWithoutBosPostProcessorHasNoBos() throws Exception {
    TokenizedExample e = encode(plain, DatasetSpec.instruction("Q", "A"));
    assertEquals(
        List.of(
            TinyTokenizers.byteId('Q'),
            TinyTokenizers.byteId('A'),
            TinyTokenizers.specialId("</s>")),
        list(e.inputIds()));
  }

  @Test
  void textLearnsEveryToken() throws Exception {
    TokenizedExample e = encode(llama, DatasetSpec.text("hello world"));
    assertArrayEquals(e.inputIds(), e.labels());
    assertEquals(TinyTokenizers.specialId("<|begin_of_text|>"), e.inputIds()[0]);
  }

  @Test
  void templatesThatDropAssistantTurnsAreRejected() throws Exception {
    String template =
        "{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}{% endfor %}";
    try (ModelTokenizer tokenizer = ModelTokenizer.load(plain)) {
      ExampleEncoder encoder = new ExampleEncoder(tokenizer, ChatTemplate.of(template, Map.of()));
      DatasetProblem p =
          assertThrows(
              DatasetProblem.class,
              () -> encoder.encode(new LineParser(null).parse(DatasetSpec.chat("a", "b"))));
      assertEquals(DatasetErrorCode.TEMPLATE_ERROR, p.code());
      assertTrue(p.getMessage().contains("messages[1]"), p.getMessage());
    }
  }

  @Test
  void templatesThatRewriteEarlierTurnsAreRejected() throws Exception {
    // Renders the number of messages first, so a prefix is not a prefix of the whole.
    String template =
        "{{ messages | length }}{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}";
    try (ModelTokenizer tokenizer = ModelTokenizer.load(plain)) {
      ExampleEncoder encoder = new ExampleEncoder(tokenizer, ChatTemplate.of(template, Map.of()));
      DatasetProblem p =
          assertThrows(
              DatasetProblem.class,
              () -> encoder.encode(new LineParser(null).parse(DatasetSpec.chat("a", "b"))));
      assertEquals(DatasetErrorCode.TEMPLATE_ERROR, p.code());
    }
  }
}
