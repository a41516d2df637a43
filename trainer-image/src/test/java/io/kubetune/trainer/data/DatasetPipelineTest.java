package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.DatasetReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetPipelineTest {
  @TempDir static Path models;
  static Path chatml;

  @TempDir Path tmp;

  @BeforeAll
  static void tokenizer() throws Exception {
    chatml =
        TinyTokenizers.in(models.resolve("chatml"))
            .config("eos_token", "<|im_end|>")
            .config("bos_token", null)
            .write();
  }

  private static List<String> chats(int n) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      lines.add(DatasetSpec.chat("question " + i, "answer " + i));
    }
    return lines;
  }

  @Test
  void splitIsDeterministicBySeedAndDisjoint() throws Exception {
    Path train = DatasetSpec.jsonl(tmp.resolve("t.jsonl"), chats(40));
    var cfg = DatasetSpec.train(train).validationSplit(0.25).build();
    PreparedDataset a = DatasetPipeline.prepare(cfg, chatml, 256, false, 7);
    PreparedDataset b = DatasetPipeline.prepare(cfg, chatml, 256, false, 7);
    PreparedDataset c = DatasetPipeline.prepare(cfg, chatml, 256, false, 8);
    assertEquals(30, a.train().size());
    assertEquals(10, a.validation().size());
    assertEquals(30, a.report().trainExamples());
    assertEquals(10, a.report().validExamples());
    assertEquals(a.validation(), b.validation());
    assertEquals(a.train(), b.train());
    assertNotEquals(a.validation(), c.validation(), "another seed holds out other examples");
    Set<TokenizedExample> all = new HashSet<>(a.train());
    all.addAll(a.validation());
    assertEquals(40, all.size(), "every example lands in exactly one split");
    DatasetReport validated = DatasetValidator.validate(cfg, chatml, 256);
    assertEquals(a.report(), validated, "validate-dataset reports what training sees");
  }

  @Test
  void separateValidationFileIsUsedAsIs() throws Exception {
    Path train = DatasetSpec.jsonl(tmp.resolve("t.jsonl"), chats(5));
    Path valid = DatasetSpec.jsonl(tmp.resolve("v.jsonl"), chats(3));
    var cfg = DatasetSpec.train(train).validation(valid).validationSplit(0.5).build();
    PreparedDataset p = DatasetPipeline.prepare(cfg, chatml, 256, false, 1);
    assertEquals(5, p.train().size());
    assertEquals(3, p.validation().size());
    assertTrue(p.report().valid());
  }

  @Test
  void truncationIsCountedAndExamplesWithoutLabelsLeftAreReported() throws Exception {
    String longAnswer = "a".repeat(100);
    Path train =
        DatasetSpec.jsonl(
            tmp.resolve("t.jsonl"),
            DatasetSpec.chat("hi", longAnswer),
            DatasetSpec.chat("x".repeat(100), "y"),
            DatasetSpec.chat("hi", "ok"));
    var cfg = DatasetSpec.train(train).onError("Warn").build();
    PreparedDataset p = DatasetPipeline.prepare(cfg, chatml, 40, false, 1);
    DatasetReport r = p.report();
    assertTrue(r.valid());
    assertEquals(1, r.truncatedExamples());
    assertEquals(2, r.trainExamples());
    assertEquals(1, r.errorCount());
    assertEquals(2, r.errors().get(0).line());
    assertEquals(io.kubetune.contract.DatasetErrorCode.TOO_LONG, r.errors().get(0).code());
    assertEquals(40, p.train().get(0).length());
    assertTrue(p.train().get(0).labeledTokens() > 0);
    long tokens = p.train().stream().mapToLong(TokenizedExample::length).sum();
    assertEquals(tokens, r.totalTokens());
  }

  @Test
  void packingKeepsEveryTokenAndLabelInOrder() throws Exception {
    Path train = DatasetSpec.jsonl(tmp.resolve("t.jsonl"), chats(12));
    var cfg = DatasetSpec.train(train).build();
    PreparedDataset plain = DatasetPipeline.prepare(cfg, chatml, 160, false, 3);
    PreparedDataset packed = DatasetPipeline.prepare(cfg, chatml, 160, true, 3);
    assertTrue(packed.train().size() < plain.train().size());
    int eos = TinyTokenizers.specialId("<|im_end|>");
    List<Integer> expectedIds = new ArrayList<>();
    List<Integer> expectedLabels = new ArrayList<>();
    for (TokenizedExample e : plain.train()) {
      TokenizedExample s = Packing.withSeparator(e, eos);
      for (int i = 0; i < s.length(); i++) {
        expectedIds.add(s.inputIds()[i]);
        expectedLabels.add(s.labels()[i]);
      }
    }
    List<Integer> ids = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    for (TokenizedExample s : packed.train()) {
      assertTrue(s.length() <= 160);
      for (int i = 0; i < s.length(); i++) {
        ids.add(s.inputIds()[i]);
        labels.add(s.labels()[i]);
      }
    }
    assertEquals(expectedIds, ids);
    assertEquals(expectedLabels, labels);
    assertEquals(plain.report(), packed.report(), "the report counts examples, not sequences");
  }

  @Test
  void validationStreamsWithoutKeepingExamples() throws Exception {
    Path train = DatasetSpec.jsonl(tmp.resolve("t.jsonl"), chats(500));
    var cfg = DatasetSpec.train(train).validationSplit(0.1).build();
    DatasetPipeline.Run run = DatasetPipeline.run(cfg, chatml, 0, false, 1);
    assertTrue(run.train().isEmpty() && run.validation().isEmpty(), "bounded memory");
    assertEquals(450, run.report().trainExamples());
    assertEquals(50, run.report().validExamples());
  }

  @Test
  void textPackingLearnsDocumentEnds() throws Exception {
    Path train =
        DatasetSpec.jsonl(tmp.resolve("t.jsonl"), DatasetSpec.text("one"), DatasetSpec.text("two"));
    PreparedDataset p =
        DatasetPipeline.prepare(DatasetSpec.train(train).build(), chatml, 64, true, 1);
    assertEquals("text", p.report().format());
    assertEquals(1, p.train().size());
    TokenizedExample packed = p.train().get(0);
    int eos = TinyTokenizers.specialId("<|im_end|>");
    assertEquals(2, java.util.Arrays.stream(packed.inputIds()).filter(id -> id == eos).count());
    assertEquals(packed.length(), packed.labeledTokens(), "text learns every token and separator");
  }

  @Test
  void failPolicyReturnsNoExamples() throws Exception {
    List<String> lines = chats(4);
    lines.add("not json");
    Path train = DatasetSpec.jsonl(tmp.resolve("t.jsonl"), lines);
    PreparedDataset fail =
        DatasetPipeline.prepare(DatasetSpec.train(train).build(), chatml, 64, false, 1);
    assertFalse(fail.report().valid());
    assertTrue(fail.train().isEmpty());
    PreparedDataset warn =
        DatasetPipeline.prepare(
            DatasetSpec.train(train).onError("Warn").build(), chatml, 64, false, 1);
    assertTrue(warn.report().valid());
    assertEquals(4, warn.train().size());
    assertEquals(1, warn.report().errorCount());
  }
}
