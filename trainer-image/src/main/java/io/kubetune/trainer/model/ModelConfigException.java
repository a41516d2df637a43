package io.kubetune.trainer.model;

import java.io.IOException;

/** A model folder that cannot be used; the message names the file, the field and the fix. */
public class ModelConfigException extends IOException {

  /** Creates an exception with a message naming the file, field and fix. */
  public ModelConfigException(String message) {
    super(message);
  }

  /** Creates an exception with a message and its cause. */
  public ModelConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
