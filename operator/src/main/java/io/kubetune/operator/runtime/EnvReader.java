package io.kubetune.operator.runtime;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads settings from environment variables. Blank means unset; values are trimmed. Every invalid
 * value is an {@link InvalidSettingException} that names the variable and says how to fix it.
 */
public final class EnvReader {
  private final Map<String, String> env;

  /** Reads from {@code env} (the process environment or a test's map). */
  public EnvReader(Map<String, String> env) {
    this.env = env;
  }

  /** The trimmed value of {@code name}, or empty when it is unset or blank. */
  public Optional<String> optional(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  /** The trimmed value of {@code name}, or {@code fallback} when it is unset or blank. */
  public String get(String name, String fallback) {
    return optional(name).orElse(fallback);
  }

  /** An integer value of {@code name}, or {@code fallback} when it is unset or blank. */
  public long integer(String name, long fallback) {
    String text = get(name, Long.toString(fallback));
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new InvalidSettingException(name, "'" + text + "' must be an integer");
    }
  }

  /** A boolean value of {@code name} (true or false, any case), or {@code fallback} if unset. */
  public boolean bool(String name, boolean fallback) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return fallback;
    }
    return switch (raw.get().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new InvalidSettingException(
              name, "'" + raw.get() + "' must be true or false; use 'true' or 'false'");
    };
  }

  /** A positive Kubernetes quantity value of {@code name}, or {@code fallback} when unset. */
  public Quantity positiveQuantity(String name, String fallback) {
    String text = get(name, fallback);
    try {
      Quantity q = Quantity.parse(text);
      if (Quantity.getAmountInBytes(q).compareTo(BigDecimal.ZERO) > 0) {
        return q;
      }
    } catch (RuntimeException e) {
      // Falls through to the message below, which says what is accepted.
    }
    throw new InvalidSettingException(
        name, "'" + text + "' is not a positive Kubernetes quantity such as 2Gi or 500m");
  }

  /**
   * Checks a constraint on the value of {@code name}.
   *
   * @param problem what the value must be, such as "must be at least 1"
   * @throws InvalidSettingException naming the variable and the problem when {@code ok} is false
   */
  public static void require(boolean ok, String name, String problem) {
    if (!ok) {
      throw new InvalidSettingException(name, problem);
    }
  }
}
