package io.kubetune.trainer.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns SIGTERM into a {@link StopSignal}: the JVM runs shutdown hooks on SIGTERM, and this hook
 * sets the signal and then holds the JVM open until the job has checkpointed and returned, or the
 * grace period (just under the pod's {@code terminationGracePeriodSeconds}) runs out. Kubernetes
 * kills the container with SIGKILL when its grace period ends, so the hook does not wait longer.
 */
public final class GracefulShutdown {
  /** Environment variable giving the grace period in seconds. */
  public static final String GRACE_ENV = "KUBETUNE_STOP_GRACE_SECONDS";

  /** Kubernetes' default termination grace period is 30 s; leave a margin for the JVM to exit. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(25);

  private static final Logger LOG = LoggerFactory.getLogger(GracefulShutdown.class);

  private final StopSignal stop;
  private final Duration grace;
  private final IntConsumer halt;
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile boolean inProgress;
  private volatile int exitCode = CommandSupport.STOPPED_EXIT_CODE;

  /** Creates the handler; {@link #install()} registers it. */
  public GracefulShutdown(StopSignal stop, Duration grace) {
    this(stop, grace, code -> Runtime.getRuntime().halt(code));
  }

  /** Creates the handler with the way to end the JVM; tests pass a recorder. */
  GracefulShutdown(StopSignal stop, Duration grace, IntConsumer halt) {
    this.stop = stop;
    this.grace = grace;
    this.halt = halt;
  }

  /** The grace period from {@link #GRACE_ENV}, or the default. */
  public static Duration graceFrom(java.util.Map<String, String> env) {
    String v = env.get(GRACE_ENV);
    if (v != null) {
      try {
        long s = Long.parseLong(v.strip());
        if (s >= 0) {
          return Duration.ofSeconds(s);
        }
      } catch (NumberFormatException e) {
        LOG.warn("{}={} is not a number of seconds; using {}", GRACE_ENV, v, DEFAULT_GRACE);
      }
    }
    return DEFAULT_GRACE;
  }

  /** Registers the JVM shutdown hook. */
  public GracefulShutdown install() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::onShutdown, "kubetune-sigterm"));
    return this;
  }

  /** What the shutdown hook does; package-visible so tests can run it without a signal. */
  void onShutdown() {
    inProgress = true;
    if (finished.getCount() == 0) {
      return;
    }
    LOG.info("stop requested (SIGTERM): checkpointing and stopping within {} s", grace.toSeconds());
    stop.requestStop("SIGTERM");
    try {
      if (!finished.await(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("the job did not stop within {} s; exiting without waiting", grace.toSeconds());
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    int code = exitCode;
    if (code != CommandSupport.STOPPED_EXIT_CODE) {
      // The job ended another way before it saw the stop (it finished its last step, or failed):
      // a JVM shut down by SIGTERM would exit 143, which the Job's pod failure policy reads as
      // "stopped, resume in a new pod" and would retrain from the last checkpoint. Exit with the
      // job's own code instead; halt is the only exit possible inside a shutdown hook.
      LOG.info("the job ended with exit code {} before stopping; exiting with it", code);
      System.out.flush();
      System.err.flush();
      halt.accept(code);
    }
  }

  /**
   * Tells the hook that the job has returned and its termination message is written.
   *
   * @param code the job's exit code, which the process exits with even during a SIGTERM shutdown
   */
  public void finished(int code) {
    exitCode = code;
    finished.countDown();
  }

  /**
   * Whether the JVM is already shutting down; then {@link System#exit} must not be called (it would
   * block forever) and the process exits with the signal's status when the hook returns.
   */
  public boolean inProgress() {
    return inProgress;
  }
}
