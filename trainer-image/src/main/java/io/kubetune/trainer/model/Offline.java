package io.kubetune.trainer.model;

/**
 * Keeps DJL from touching the network: no engine or tokenizer downloads, no usage tracking.
 *
 * <p>Environment variables set by the image win; these system properties are the fallback DJL reads
 * when the variables are absent (e.g. when the trainer runs from an IDE).
 */
public final class Offline {

  private Offline() {}

  /** Sets {@code ai.djl.offline} and {@code OPT_OUT_TRACKING} unless already configured. */
  public static void enforce() {
    if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (System.getenv("OPT_OUT_TRACKING") == null
        && System.getProperty("OPT_OUT_TRACKING") == null) {
      System.setProperty("OPT_OUT_TRACKING", "true");
    }
  }
}
