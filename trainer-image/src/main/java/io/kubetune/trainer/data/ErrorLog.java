package io.kubetune.trainer.data;

import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetErrorCode;
import java.util.ArrayList;
import java.util.List;

/** Counts every problem and keeps the first {@link Contract#MAX_REPORTED_ERRORS}. */
final class ErrorLog {
  private final List<DatasetError> first = new ArrayList<>();
  private long count;
  private boolean datasetLevel;

  void add(long line, DatasetErrorCode code, String message) {
    count++;
    if (line == 0) {
      datasetLevel = true;
    }
    if (first.size() < Contract.MAX_REPORTED_ERRORS) {
      first.add(new DatasetError(line, code, message));
    }
  }

  void add(long line, DatasetProblem problem, String where) {
    add(line, problem.code(), where + problem.userMessage());
  }

  long count() {
    return count;
  }

  /** Whether a problem concerns the whole dataset (line 0), which onError: Warn cannot skip. */
  boolean hasDatasetLevel() {
    return datasetLevel;
  }

  List<DatasetError> first() {
    return List.copyOf(first);
  }
}
