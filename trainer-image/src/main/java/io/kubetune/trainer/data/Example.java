package io.kubetune.trainer.data;

import java.util.List;
import java.util.Map;

/**
 * One parsed, field-checked JSONL line, before templating and tokenization.
 *
 * @param layout {@link DatasetFormat#CHAT}, {@link DatasetFormat#INSTRUCTION} or {@link
 *     DatasetFormat#TEXT}
 * @param messages chat messages (chat only)
 * @param prompt prompt (instruction only)
 * @param completion completion (instruction only)
 * @param text text (text only)
 */
record Example(
    DatasetFormat layout,
    List<Map<String, Object>> messages,
    String prompt,
    String completion,
    String text) {

  static Example chat(List<Map<String, Object>> messages) {
    return new Example(DatasetFormat.CHAT, messages, null, null, null);
  }

  static Example instruction(String prompt, String completion) {
    return new Example(DatasetFormat.INSTRUCTION, null, prompt, completion, null);
  }

  static Example text(String text) {
    return new Example(DatasetFormat.TEXT, null, null, null, text);
  }
}
