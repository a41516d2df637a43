package io.kubetune.trainer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminationMessageTest {
  @TempDir Path dir;

  @Test
  void resultIsWrittenAndFitsKubernetesLimit() throws IOException {
    Path file = dir.resolve("termination-log");
    TrainerResult result =
        new TrainerResult(
            Contract.SCHEMA_VERSION,
            false,
            FailureReason.OUT_OF_MEMORY,
            "x".repeat(10_000),
            null,
            null,
            null,
            null,
            7L);

    assertTrue(new TerminationMessage(file).write(result));

    byte[] written = Files.readAllBytes(file);
    assertTrue(written.length <= Contract.MAX_TERMINATION_MESSAGE_BYTES, "" + written.length);
    TrainerResult read =
        Contract.read(new String(written, StandardCharsets.UTF_8), TrainerResult.class);
    assertEquals(FailureReason.OUT_OF_MEMORY, read.failure());
    assertEquals(7L, read.steps());
  }

  @Test
  void datasetReportKeepsCountsWhenErrorsAreDropped() throws IOException {
    Path file = dir.resolve("termination-log");
    List<DatasetError> errors = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      errors.add(new DatasetError(i, DatasetErrorCode.MALFORMED_JSON, "y".repeat(400)));
    }
    DatasetReport report = new DatasetReport(false, "chat", 0, 0, 0, 0, 500, errors);

    assertTrue(new TerminationMessage(file).write(report));

    String text = Files.readString(file);
    assertTrue(
        text.getBytes(StandardCharsets.UTF_8).length <= Contract.MAX_TERMINATION_MESSAGE_BYTES);
    DatasetReport read = Contract.read(text, DatasetReport.class);
    assertEquals(500, read.errorCount());
    assertFalse(read.valid());
  }

  @Test
  void missingFolderOutsideAPodIsNotAnError() {
    assertFalse(
        new TerminationMessage(dir.resolve("no/such/dir/termination-log"))
            .write(new DatasetReport(true, "chat", 1, 0, 1, 0, 0, List.of())));
  }
}
