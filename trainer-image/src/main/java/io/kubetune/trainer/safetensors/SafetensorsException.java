package io.kubetune.trainer.safetensors;

import java.io.IOException;

/** A safetensors file that cannot be read or written; the message names the file and tensor. */
public class SafetensorsException extends IOException {

  /** Creates an exception with a message that names the file, the tensor and the fix. */
  public SafetensorsException(String message) {
    super(message);
  }

  /** Creates an exception with a message and the underlying cause. */
  public SafetensorsException(String message, Throwable cause) {
    super(message, cause);
  }
}
