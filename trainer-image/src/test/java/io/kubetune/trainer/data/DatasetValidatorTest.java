package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.DatasetReport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every error code, with the line it names and the fix hint in its message. */
class DatasetValidatorTest {
  @TempDir static Path models;
  static Path model;

  @TempDir Path tmp;

  @BeforeAll
  static void tokenizer() throws Exception {
    model =
        TinyTokenizers.in(models.resolve("m"))
            .bosPostProcessor("<s>")
            .config("bos_token", "<s>")
            .config("eos_token", "</s>")
            .write();
  }

  private DatasetReport validate(DatasetSpec spec) throws Exception {
    return DatasetValidator.validate(spec.build(), model, 0);
  }

  private static void assertError(DatasetReport r, long line, DatasetErrorCode code) {
    DatasetError e =
        r.errors().stream()
            .filter(x -> x.code() == code)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no " + code + " in " + r.errors()));
    assertEquals(line, e.line(), "line of " + code + ": " + e.message());
    assertTrue(e.message().endsWith(code.hint()), "message carries the fix: " + e.message());
  }

  @Test
  void everyLineLevelCodeNamesItsLine() throws Exception {
    Path f =
        DatasetSpec.jsonl(
            tmp.resolve("chat.jsonl"),
            DatasetSpec.chat("hi", "hello"), // 1 ok, fixes the format to chat
            "", // 2 blank: ignored, but counted in line numbers
            "{\"messages\": [", // 3
            "[1, 2]", // 4
            "{\"foo\": 1}", // 5
            DatasetSpec.text("plain text"), // 6
            "{\"messages\": [{\"role\": \"user\"}, {\"role\": \"assistant\", \"content\": \"x\"}]}", // 7
            "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}", // 8
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", // 9
            DatasetSpec.chat("hi", "  "), // 10
            DatasetSpec.chat("long " + "x".repeat(80), "ok")); // 11
    DatasetReport r = validate(DatasetSpec.train(f).maxTokensPerExample(60).onError("Warn"));
    assertError(r, 3, DatasetErrorCode.MALFORMED_JSON);
    assertError(r, 4, DatasetErrorCode.NOT_AN_OBJECT);
    assertError(r, 5, DatasetErrorCode.UNKNOWN_FORMAT);
    assertError(r, 6, DatasetErrorCode.FORMAT_MISMATCH);
    assertError(r, 7, DatasetErrorCode.MISSING_FIELD);
    assertError(r, 8, DatasetErrorCode.UNKNOWN_ROLE);
    assertError(r, 9, DatasetErrorCode.NO_ASSISTANT_TURN);
    assertError(r, 10, DatasetErrorCode.EMPTY_COMPLETION);
    assertError(r, 11, DatasetErrorCode.TOO_LONG);
    assertEquals(9, r.errorCount());
    assertEquals("chat", r.format());
    assertEquals(1, r.trainExamples());
    assertTrue(r.valid(), "Warn keeps the one valid example");
    List<Long> lines = r.errors().stream().map(DatasetError::line).toList();
    assertEquals(lines.stream().sorted().toList(), lines, "errors are in line order");
  }

  @Test
  void failPolicyMakesAnyBadLineInvalid() throws Exception {
    Path f =
        DatasetSpec.jsonl(
            tmp.resolve("d.jsonl"),
            DatasetSpec.chat("a", "b"),
            "{oops",
            DatasetSpec.chat("c", "d"));
    DatasetReport fail = validate(DatasetSpec.train(f));
    assertFalse(fail.valid());
    assertEquals(1, fail.errorCount());
    assertError(fail, 2, DatasetErrorCode.MALFORMED_JSON);
    DatasetReport warn = validate(DatasetSpec.train(f).onError("Warn"));
    assertTrue(warn.valid());
    assertEquals(2, warn.trainExamples());
  }

  @Test
  void templateErrorsNameTheTemplateLine() throws Exception {
    Path f = DatasetSpec.jsonl(tmp.resolve("d.jsonl"), DatasetSpec.chat("a", "b"));
    String template =
        "{% for m in messages %}\n{% if m['role'] == 'user' %}\n"
            + "{{ raise_exception('users are not welcome') }}\n{% endif %}{% endfor %}";
    DatasetReport r = validate(DatasetSpec.train(f).chatTemplate(template));
    assertFalse(r.valid());
    assertError(r, 1, DatasetErrorCode.TEMPLATE_ERROR);
    String message = r.errors().get(0).message();
    assertTrue(message.contains("line 3"), message);
    assertTrue(message.contains("users are not welcome"), message);
    DatasetReport syntax =
        validate(DatasetSpec.train(f).chatTemplate("ok\n{% for m in messages %}{{ m.content }}"));
    assertError(syntax, 1, DatasetErrorCode.TEMPLATE_ERROR);
    DatasetReport unknown =
        validate(DatasetSpec.train(f).chatTemplate("{{ no_such_function(messages) }}"));
    assertError(unknown, 1, DatasetErrorCode.TEMPLATE_ERROR);
  }

  @Test
  void datasetLevelCodesUseLineZeroAndFailEvenWithWarn() throws Exception {
    DatasetReport missing =
        validate(DatasetSpec.train(tmp.resolve("absent.jsonl")).onError("Warn"));
    assertFalse(missing.valid());
    assertError(missing, 0, DatasetErrorCode.UNREADABLE);

    Path empty = DatasetSpec.jsonl(tmp.resolve("empty.jsonl"), "", "   ");
    DatasetReport e = validate(DatasetSpec.train(empty).onError("Warn"));
    assertFalse(e.valid());
    assertError(e, 0, DatasetErrorCode.EMPTY_DATASET);

    Path two =
        DatasetSpec.jsonl(
            tmp.resolve("two.jsonl"), DatasetSpec.chat("a", "b"), DatasetSpec.chat("c", "d"));
    DatasetReport few = validate(DatasetSpec.train(two).minExamples(3).onError("Warn"));
    assertFalse(few.valid());
    assertError(few, 0, DatasetErrorCode.TOO_FEW_EXAMPLES);
    DatasetReport defaults = validate(DatasetSpec.train(two).minExamples(null));
    assertError(defaults, 0, DatasetErrorCode.TOO_FEW_EXAMPLES);
    assertTrue(
        defaults.errors().get(0).message().contains("" + DatasetPipeline.DEFAULT_MIN_EXAMPLES));

    Path bad = tmp.resolve("latin1.jsonl");
    Files.write(
        bad,
        ("{\"text\": \"ok\"}\n{\"text\": \"caf\u00e9\"}\n").getBytes(StandardCharsets.ISO_8859_1));
    DatasetReport latin = validate(DatasetSpec.train(bad));
    assertError(latin, 2, DatasetErrorCode.MALFORMED_JSON);
    assertTrue(latin.errors().get(0).message().contains("UTF-8"));

    DatasetReport format = validate(DatasetSpec.train(two).format("sharegpt"));
    assertFalse(format.valid());
    assertError(format, 0, DatasetErrorCode.UNKNOWN_FORMAT);
  }

  @Test
  void overlongLinesAreSkippedNotBuffered() throws Exception {
    Path f =
        DatasetSpec.jsonl(
            tmp.resolve("d.jsonl"),
            DatasetSpec.chat("a", "b"),
            DatasetSpec.text("x".repeat(500)),
            DatasetSpec.chat("c", "d"));
    DatasetReport r =
        DatasetPipeline.run(DatasetSpec.train(f).onError("Warn").build(), model, 0, false, 0, 200)
            .report();
    assertError(r, 2, DatasetErrorCode.MALFORMED_JSON);
    assertTrue(r.errors().get(0).message().contains("longer than 200 bytes"));
    assertEquals(2, r.trainExamples(), "the lines after it are read normally");
  }

  @Test
  void validationFileErrorsAreLabelled() throws Exception {
    Path train = DatasetSpec.jsonl(tmp.resolve("t.jsonl"), DatasetSpec.chat("a", "b"));
    Path valid = DatasetSpec.jsonl(tmp.resolve("v.jsonl"), DatasetSpec.chat("a", "b"), "nope");
    DatasetReport r = validate(DatasetSpec.train(train).validation(valid));
    assertFalse(r.valid());
    assertError(r, 2, DatasetErrorCode.MALFORMED_JSON);
    assertTrue(r.errors().get(0).message().startsWith("validation file: "));
  }

  @Test
  void onlyTheFirstErrorsTravelButAllAreCounted() throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      lines.add("{broken " + i);
    }
    DatasetReport r = validate(DatasetSpec.train(DatasetSpec.jsonl(tmp.resolve("b.jsonl"), lines)));
    assertEquals(50 + 1, r.errorCount(), "50 bad lines and an empty dataset");
    assertEquals(Contract.MAX_REPORTED_ERRORS, r.errors().size());
    assertEquals(1, r.errors().get(0).line());
  }

  @Test
  void declaredFormatsAreEnforcedAndAutoDetectionUsesTheFirstLine() throws Exception {
    Path instr =
        DatasetSpec.jsonl(
            tmp.resolve("i.jsonl"),
            DatasetSpec.instruction("Q", "A"),
            "{\"prompt\": \"Q\"}",
            DatasetSpec.instruction("Q", ""));
    DatasetReport auto = validate(DatasetSpec.train(instr).onError("Warn"));
    assertEquals("instruction", auto.format());
    assertError(auto, 2, DatasetErrorCode.MISSING_FIELD);
    assertError(auto, 3, DatasetErrorCode.EMPTY_COMPLETION);
    DatasetReport completion =
        validate(DatasetSpec.train(instr).format("completion").onError("Warn"));
    assertEquals("completion", completion.format());
    assertEquals(1, completion.trainExamples());
    DatasetReport asChat = validate(DatasetSpec.train(instr).format("chat"));
    assertError(asChat, 1, DatasetErrorCode.FORMAT_MISMATCH);

    Path text =
        DatasetSpec.jsonl(
            tmp.resolve("x.jsonl"),
            DatasetSpec.text("one"),
            "{\"text\": 3}",
            DatasetSpec.text(" "));
    DatasetReport t = validate(DatasetSpec.train(text).onError("Warn"));
    assertEquals("text", t.format());
    assertError(t, 2, DatasetErrorCode.MISSING_FIELD);
    assertError(t, 3, DatasetErrorCode.EMPTY_COMPLETION);
  }

  @Test
  void everyCodeIsCoveredByTheseTests() {
    // Guards the promise "every DatasetErrorCode is tested": a new code must get a case above.
    Set<DatasetErrorCode> covered =
        EnumSet.of(
            DatasetErrorCode.UNREADABLE,
            DatasetErrorCode.EMPTY_DATASET,
            DatasetErrorCode.MALFORMED_JSON,
            DatasetErrorCode.NOT_AN_OBJECT,
            DatasetErrorCode.UNKNOWN_FORMAT,
            DatasetErrorCode.FORMAT_MISMATCH,
            DatasetErrorCode.MISSING_FIELD,
            DatasetErrorCode.UNKNOWN_ROLE,
            DatasetErrorCode.NO_ASSISTANT_TURN,
            DatasetErrorCode.EMPTY_COMPLETION,
            DatasetErrorCode.TOO_LONG,
            DatasetErrorCode.TOO_FEW_EXAMPLES,
            DatasetErrorCode.TEMPLATE_ERROR);
    assertEquals(EnumSet.allOf(DatasetErrorCode.class), covered);
  }
}
