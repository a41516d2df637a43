package io.kubetune.contract;

/** A contract document could not be read. */
public class ContractException extends RuntimeException {
  public ContractException(String message) {
    super(message);
  }

  public ContractException(String message, Throwable cause) {
    super(message, cause);
  }
}
