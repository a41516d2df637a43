package io.kubetune.contract;

import java.util.List;

/**
 * The verdict on one adapter folder, computed by {@link AdapterChecks}. The operator computes it
 * in-process when it can read the artifact store; otherwise the trainer image's {@code
 * check-adapter} command computes it in a short pod and writes it as its termination message
 * ({@link Contract#writeBounded(AdapterCheckResult)}), which the operator reads back.
 *
 * @param ok true when the folder may be registered
 * @param reason one of {@link AdapterChecks.Reasons}, null when ok
 * @param message what is wrong and what to do, or a summary when ok
 * @param digest the computed digest when the files could be read, else null
 * @param rank the LoRA rank {@code r} when the config could be read, else null
 * @param targetModules the config's {@code target_modules} when it could be read, else empty
 */
public record AdapterCheckResult(
    boolean ok,
    String reason,
    String message,
    String digest,
    Integer rank,
    List<String> targetModules) {

  public AdapterCheckResult {
    targetModules = targetModules == null ? List.of() : List.copyOf(targetModules);
  }

  /** A refusal with nothing measured. */
  public static AdapterCheckResult refuse(String reason, String message) {
    return new AdapterCheckResult(false, reason, message, null, null, List.of());
  }
}
