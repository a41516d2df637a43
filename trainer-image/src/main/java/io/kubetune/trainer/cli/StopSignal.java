package io.kubetune.trainer.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A cancellation token set when the pod is asked to stop (SIGTERM on eviction, preemption or
 * deletion). The training loop polls {@link #isStopRequested()} between steps, writes a checkpoint
 * and returns; it is never interrupted, because interrupting a thread in the middle of file I/O
 * closes its channels and would corrupt the checkpoint it is writing.
 */
public final class StopSignal {
  private final CountDownLatch requested = new CountDownLatch(1);
  private volatile String reason;

  /** Asks the running job to checkpoint and stop. Later calls keep the first reason. */
  public void requestStop(String why) {
    synchronized (this) {
      if (reason == null) {
        reason = why;
      }
    }
    requested.countDown();
  }

  /** Whether a stop was requested. */
  public boolean isStopRequested() {
    return requested.getCount() == 0;
  }

  /** Why the stop was requested, or null. */
  public String reason() {
    return reason;
  }

  /**
   * Waits up to {@code timeout} for a stop request (for loops that sleep, e.g. between retries).
   *
   * @return whether a stop was requested
   */
  public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
    return requested.await(timeout, unit);
  }
}
