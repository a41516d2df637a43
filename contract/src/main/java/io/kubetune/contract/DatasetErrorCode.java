package io.kubetune.contract;

/**
 * Line-level and dataset-level error codes reported by {@code validate-dataset} and by training.
 *
 * <p>The operator copies them verbatim into {@code status.datasetStats.errors}; each code carries
 * the fix hint that users see next to the line number.
 */
public enum DatasetErrorCode {
  /** The file could not be read at all. */
  UNREADABLE("check that the dataset path exists and is readable by the trainer"),
  /** The dataset holds no examples. */
  EMPTY_DATASET("add at least one example, one JSON object per line"),
  /** A line is not valid JSON. */
  MALFORMED_JSON("each line must be exactly one JSON object"),
  /** A line is JSON but not an object. */
  NOT_AN_OBJECT("each line must be a JSON object such as {\"messages\": [...]}"),
  /** No known format matches the line's keys. */
  UNKNOWN_FORMAT(
      "use 'messages' (chat), 'prompt'+'completion' (instruction or completion) or 'text'"
          + " (text)"),
  /** The line's format differs from the dataset's declared or detected format. */
  FORMAT_MISMATCH("keep every line in one format or set spec.dataset.format"),
  /** A required field is missing or has the wrong JSON type. */
  MISSING_FIELD("add the field named in the message with a string value"),
  /** A chat message has a role other than system, user or assistant. */
  UNKNOWN_ROLE("roles must be one of system, user, assistant"),
  /** A chat example has no assistant turn to learn from. */
  NO_ASSISTANT_TURN("end every conversation with an assistant message"),
  /** A completion or assistant message is empty, so there is nothing to learn. */
  EMPTY_COMPLETION("give every completion or assistant turn non-empty content"),
  /** An example is longer than {@code checks.maxTokensPerExample}. */
  TOO_LONG("shorten the example or raise spec.dataset.checks.maxTokensPerExample"),
  /** Fewer examples than {@code checks.minExamples}. */
  TOO_FEW_EXAMPLES("add examples or lower spec.dataset.checks.minExamples"),
  /** The chat template could not render the example. */
  TEMPLATE_ERROR("fix the conversation or set spec.dataset.chatTemplate to a template that fits");

  private final String hint;

  DatasetErrorCode(String hint) {
    this.hint = hint;
  }

  /** How a user fixes this error. */
  public String hint() {
    return hint;
  }
}
