package io.kubetune.trainer.source;

/**
 * The base model could not be located, downloaded or verified. The message says what to fix and
 * never contains a hub token.
 */
public class ModelSourceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelSourceException(String message) {
    super(message);
  }

  public ModelSourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
