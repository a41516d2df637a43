package io.kubetune.trainer.cli;

import io.kubetune.contract.Contract;
import io.kubetune.contract.ContractException;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerResult;
import io.kubetune.trainer.source.ModelSourceException;
import java.util.Locale;
import java.util.concurrent.CancellationException;

/** Maps whatever went wrong to a {@link FailureReason} and a one-line message for users. */
public final class Failures {
  private Failures() {}

  /** The reason for a failure, looking through causes for the most specific one. */
  public static FailureReason classify(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof TrainerFailureException) {
        return ((TrainerFailureException) c).reason();
      }
      if (c instanceof OutOfMemoryError || isNativeOutOfMemory(c)) {
        return FailureReason.OUT_OF_MEMORY;
      }
      if (c instanceof ConfigException || c instanceof ContractException) {
        return FailureReason.CONFIG_INVALID;
      }
      if (c instanceof ModelSourceException) {
        return FailureReason.MODEL_INVALID;
      }
    }
    return FailureReason.INTERNAL_ERROR;
  }

  /** Whether the work was cancelled on request ({@link CancellationException} in the chain). */
  public static boolean isStop(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof CancellationException) {
        return true;
      }
    }
    return false;
  }

  /** PyTorch reports allocation failures as engine exceptions, not as Java's OutOfMemoryError. */
  private static boolean isNativeOutOfMemory(Throwable t) {
    String m = t.getMessage();
    if (m == null) {
      return false;
    }
    String lower = m.toLowerCase(Locale.ROOT);
    return lower.contains("out of memory")
        || lower.contains("can't allocate memory")
        || lower.contains("not enough memory")
        || lower.contains("std::bad_alloc");
  }

  /** A one-line message for users; the stack trace goes to the debug log only. */
  public static String message(Throwable t) {
    FailureReason reason = classify(t);
    String m = firstLine(t.getMessage());
    switch (reason) {
      case OUT_OF_MEMORY:
        return "out of memory"
            + (m == null ? "" : " (" + m + ")")
            + "; lower hyperparameters.batchSize or maxSeqLength, use qlora, or raise"
            + " spec.resources.memory / use a larger GPU";
      case INTERNAL_ERROR:
        if (t instanceof UnsupportedOperationException && m != null) {
          return m;
        }
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
      default:
        return m == null ? t.getClass().getSimpleName() : m;
    }
  }

  /** The result document of a failure, or of a stop on request when {@code reason} is null. */
  public static TrainerResult result(FailureReason reason, String message) {
    return new TrainerResult(
        Contract.SCHEMA_VERSION, false, reason, message, null, null, null, null, null);
  }

  private static String firstLine(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    int nl = s.indexOf('\n');
    return (nl >= 0 ? s.substring(0, nl) : s).strip();
  }
}
