package io.kubetune.trainer.data;

import io.kubetune.contract.TrainerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Builds {@link TrainerConfig.Dataset} fixtures and their JSONL files. */
final class DatasetSpec {
  private String train;
  private String validation;
  private Double validationSplit;
  private String format;
  private String chatTemplate;
  private Integer minExamples = 1;
  private Integer maxTokensPerExample;
  private String onError;

  private DatasetSpec(Path train) {
    this.train = train.toString();
  }

  static DatasetSpec train(Path file) {
    return new DatasetSpec(file);
  }

  /** Writes lines (joined with '\n', final newline included) and returns the file. */
  static Path jsonl(Path file, String... lines) throws IOException {
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return file;
  }

  static Path jsonl(Path file, List<String> lines) throws IOException {
    return jsonl(file, lines.toArray(String[]::new));
  }

  DatasetSpec validation(Path file) {
    this.validation = file.toString();
    return this;
  }

  DatasetSpec validationSplit(double fraction) {
    this.validationSplit = fraction;
    return this;
  }

  DatasetSpec format(String f) {
    this.format = f;
    return this;
  }

  DatasetSpec chatTemplate(String t) {
    this.chatTemplate = t;
    return this;
  }

  DatasetSpec minExamples(Integer n) {
    this.minExamples = n;
    return this;
  }

  DatasetSpec maxTokensPerExample(int n) {
    this.maxTokensPerExample = n;
    return this;
  }

  DatasetSpec onError(String policy) {
    this.onError = policy;
    return this;
  }

  TrainerConfig.Dataset build() {
    return new TrainerConfig.Dataset(
        train,
        validation,
        validationSplit,
        format,
        chatTemplate,
        minExamples,
        maxTokensPerExample,
        onError);
  }

  /** A one-turn chat line. */
  static String chat(String user, String assistant) {
    return "{\"messages\":[{\"role\":\"user\",\"content\":\""
        + user
        + "\"},{\"role\":\"assistant\",\"content\":\""
        + assistant
        + "\"}]}";
  }

  static String instruction(String prompt, String completion) {
    return "{\"prompt\":\"" + prompt + "\",\"completion\":\"" + completion + "\"}";
  }

  static String text(String text) {
    return "{\"text\":\"" + text + "\"}";
  }
}
