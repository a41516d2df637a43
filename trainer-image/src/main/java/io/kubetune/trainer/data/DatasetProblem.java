package io.kubetune.trainer.data;

import io.kubetune.contract.DatasetErrorCode;

/** Why one example (or the dataset) cannot be used; becomes a {@code DatasetError}. */
final class DatasetProblem extends Exception {
  private final DatasetErrorCode code;

  DatasetProblem(DatasetErrorCode code, String what) {
    super(what);
    this.code = code;
  }

  DatasetErrorCode code() {
    return code;
  }

  /** What is wrong followed by how to fix it, as users see it in status. */
  String userMessage() {
    return getMessage() + "; " + code.hint();
  }
}
