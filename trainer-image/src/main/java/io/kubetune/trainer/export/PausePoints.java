package io.kubetune.trainer.export;

import java.util.function.BooleanSupplier;

/**
 * Test-only pause points, so that a test can kill a real trainer process at an exact place instead
 * of guessing with sleeps. With the system property {@code kubetune.testing.pauseAt=<point>@<step>}
 * the trainer prints {@code kubetune-paused <point>@<step>} on stderr when it gets there and then
 * blocks until the process is killed, or until {@code release} turns true (a stop request, so that
 * SIGTERM is handled as usual). Without the property, which production never sets, every point
 * returns at once.
 */
public final class PausePoints {
  /** The system property naming the point to pause at. */
  public static final String PROPERTY = "kubetune.testing.pauseAt";

  /** What is printed on stderr, followed by {@code <point>@<step>}, when the trainer pauses. */
  public static final String ANNOUNCEMENT = "kubetune-paused ";

  /** Inside a checkpoint write: data files written, {@code trainer_state.json} and rename not. */
  public static final String CHECKPOINT_WRITE = "checkpointWrite";

  /** A checkpoint was renamed into place and older ones pruned. */
  public static final String CHECKPOINT_WRITTEN = "checkpointWritten";

  /** An optimizer step (and its evaluation) finished; its checkpoint, if any, not yet written. */
  public static final String AFTER_STEP = "afterStep";

  private PausePoints() {}

  /** Pauses here when the property names {@code point} at {@code step}. */
  public static void reached(String point, long step, BooleanSupplier release) {
    String at = System.getProperty(PROPERTY);
    if (at == null || !at.equals(point + "@" + step)) {
      return;
    }
    System.err.println(ANNOUNCEMENT + at);
    System.err.flush();
    try {
      while (!release.getAsBoolean()) {
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
