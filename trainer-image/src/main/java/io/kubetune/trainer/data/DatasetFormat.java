package io.kubetune.trainer.data;

import java.util.Locale;

/** The JSONL layouts a dataset can use. */
public enum DatasetFormat {
  /** {@code {"messages": [{"role": ..., "content": ...}, ...]}}, rendered by the chat template. */
  CHAT("chat"),
  /** {@code {"prompt": ..., "completion": ...}}; loss on the completion and EOS. */
  INSTRUCTION("instruction"),
  /**
   * The same layout as {@link #INSTRUCTION} under the name used by the OpenAI API and TRL
   * (prompt-completion); it behaves exactly like instruction.
   */
  COMPLETION("completion"),
  /** {@code {"text": ...}} for continued pre-training; loss on every token. */
  TEXT("text");

  private final String id;

  DatasetFormat(String id) {
    this.id = id;
  }

  /** The name used in configs and reports. */
  public String id() {
    return id;
  }

  /** The layout lines of this format use ({@link #COMPLETION} reads like {@link #INSTRUCTION}). */
  DatasetFormat layout() {
    return this == COMPLETION ? INSTRUCTION : this;
  }

  /**
   * Parses a configured format.
   *
   * @return the format, or null for {@code auto} (and for a missing value)
   * @throws IllegalArgumentException for an unknown name
   */
  public static DatasetFormat parse(String name) {
    if (name == null || name.isBlank() || name.equalsIgnoreCase("auto")) {
      return null;
    }
    for (DatasetFormat f : values()) {
      if (f.id.equals(name.trim().toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown dataset format '" + name + "': use auto, chat, instruction, completion or text");
  }
}
