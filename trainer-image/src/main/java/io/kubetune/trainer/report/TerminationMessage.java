package io.kubetune.trainer.report;

import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.TrainerResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the container termination message that the operator reads after the trainer exits: a
 * {@link TrainerResult} (train, eval), a {@link DatasetReport} (validate-dataset) or an {@link
 * AdapterCheckResult} (check-adapter), bounded to what Kubernetes keeps ({@link
 * Contract#MAX_TERMINATION_MESSAGE_BYTES}).
 */
public final class TerminationMessage {
  /** Kubernetes' default {@code terminationMessagePath}. */
  public static final Path DEFAULT_PATH = Path.of("/dev/termination-log");

  /** Environment variable overriding the path (local runs, tests). */
  public static final String PATH_ENV = "KUBETUNE_TERMINATION_LOG";

  private static final Logger LOG = LoggerFactory.getLogger(TerminationMessage.class);

  private final Path path;

  /** Creates a writer for {@code path}. */
  public TerminationMessage(Path path) {
    this.path = path;
  }

  /** The file written to. */
  public Path path() {
    return path;
  }

  /** Writes a result; returns false when the file cannot be written (outside a pod). */
  public boolean write(TrainerResult result) {
    return writeText(Contract.writeBounded(result));
  }

  /** Writes an adapter check verdict; returns false when the file cannot be written. */
  public boolean write(AdapterCheckResult verdict) {
    return writeText(Contract.writeBounded(verdict));
  }

  /** Writes a dataset report; returns false when the file cannot be written (outside a pod). */
  public boolean write(DatasetReport report) {
    return writeText(Contract.writeBounded(report));
  }

  private boolean writeText(String text) {
    Path parent = path.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      LOG.debug("no termination message: folder of {} does not exist", path);
      return false;
    }
    try {
      Files.writeString(
          path,
          text,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE);
      return true;
    } catch (IOException | SecurityException e) {
      // Outside Kubernetes /dev/termination-log is usually not writable; that is expected.
      LOG.debug("cannot write the termination message {}: {}", path, e.getMessage());
      return false;
    }
  }
}
