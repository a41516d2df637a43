package io.kubetune.operator.runtime;

/** A setting read from the environment has a value the operator cannot use. */
public final class InvalidSettingException extends IllegalArgumentException {

  private final String variable;

  /**
   * Creates the exception.
   *
   * @param variable the environment variable at fault
   * @param message what is wrong and how to fix it
   */
  public InvalidSettingException(String variable, String message) {
    super(variable + ": " + message);
    this.variable = variable;
  }

  /** Returns the environment variable at fault. */
  public String variable() {
    return variable;
  }
}
