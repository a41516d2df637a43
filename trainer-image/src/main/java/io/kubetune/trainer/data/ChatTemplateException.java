package io.kubetune.trainer.data;

/** A chat template failed to render a conversation. */
public final class ChatTemplateException extends Exception {
  private final int templateLine;

  ChatTemplateException(int templateLine, String message) {
    super(message);
    this.templateLine = templateLine;
  }

  /** The 1-based line of the template where rendering failed, or 0 when unknown. */
  public int templateLine() {
    return templateLine;
  }
}
