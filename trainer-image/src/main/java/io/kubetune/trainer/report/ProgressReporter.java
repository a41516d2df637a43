package io.kubetune.trainer.report;

import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerStage;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports training progress per the trainer/operator contract (docs/trainer-contract.md).
 *
 * <p>Every {@link #report} prints the document as one JSON line on stdout. When a {@link
 * ProgressSink} is present (the progress ConfigMap, in a cluster) the document is also published,
 * at most once per {@code minInterval}: updates in between are coalesced and only the newest is
 * sent (each document is a complete snapshot, so nothing is lost). A stage change, the first
 * document and a terminal stage ({@link TrainerStage#SUCCEEDED}, {@link TrainerStage#FAILED}) are
 * published at once, and {@link #close()} publishes whatever is still pending. A held-back update
 * is also published by a background timer once its interval has passed, so the operator's view does
 * not stall during a long evaluation.
 *
 * <p>Publishing never throws into, nor waits in, the training loop: a background thread sends, and
 * {@link #close()} waits (at most 20 s) for the final state to go out.
 */
public final class ProgressReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(20);

  private final PrintStream stdout;
  private final ProgressSink sink;
  private final long minIntervalNanos;
  private final LongSupplier nanoTime;
  private final Clock wallClock;
  private final ScheduledExecutorService scheduler;

  private final AtomicReference<TrainerProgress> outgoing = new AtomicReference<>();
  private TrainerStage lastStage;
  private TrainerProgress pending;
  private TrainerProgress latest;
  private long lastPublishedAt;
  private boolean publishedAny;
  private ScheduledFuture<?> scheduledFlush;
  private boolean closed;

  /**
   * Creates a reporter.
   *
   * @param stdout where JSON lines go
   * @param sink where throttled updates go, or null (outside a cluster)
   * @param minInterval fewest time between two published updates
   * @param nanoTime monotonic clock for throttling ({@code System::nanoTime})
   * @param wallClock stamps {@code updatedAt} when a document has none
   * @param scheduler a single thread that sends updates (so that a slow API server does not slow
   *     the caller) and publishes held-back updates when their interval ends; null sends on the
   *     caller's thread, and only the next {@link #report}, {@link #flushIfDue()} or {@link
   *     #close()} publishes a held-back update
   */
  public ProgressReporter(
      PrintStream stdout,
      ProgressSink sink,
      Duration minInterval,
      LongSupplier nanoTime,
      Clock wallClock,
      ScheduledExecutorService scheduler) {
    this.stdout = Objects.requireNonNull(stdout);
    this.sink = sink;
    this.minIntervalNanos = Math.max(0, minInterval.toNanos());
    this.nanoTime = nanoTime;
    this.wallClock = wallClock;
    this.scheduler = scheduler;
  }

  /**
   * Creates the reporter for a run: stdout always, plus the progress ConfigMap when {@code kube}
   * says the process runs in a cluster.
   */
  public static ProgressReporter forConfig(
      TrainerConfig config, KubernetesEnvironment kube, PrintStream stdout) {
    Duration interval = interval(config);
    Optional<ProgressSink> sink = clusterSink(config, kube);
    ScheduledExecutorService scheduler = null;
    if (sink.isPresent()) {
      scheduler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "progress-flush");
                t.setDaemon(true);
                return t;
              });
    }
    return new ProgressReporter(
        stdout, sink.orElse(null), interval, System::nanoTime, Clock.systemUTC(), scheduler);
  }

  /** The configured throttle interval, or the contract default. */
  static Duration interval(TrainerConfig config) {
    Integer seconds =
        config != null && config.progress() != null ? config.progress().minIntervalSeconds() : null;
    return Duration.ofSeconds(
        seconds != null && seconds >= 0 ? seconds : Contract.DEFAULT_PROGRESS_INTERVAL_SECONDS);
  }

  /** The progress ConfigMap sink, when in a cluster and the config names a job or ConfigMap. */
  static Optional<ProgressSink> clusterSink(TrainerConfig config, KubernetesEnvironment kube) {
    if (!kube.inCluster()) {
      LOG.debug("not in a cluster: progress goes to stdout only");
      return Optional.empty();
    }
    String name =
        config.progress() != null && config.progress().configMap() != null
            ? config.progress().configMap()
            : config.jobName() != null ? Contract.progressConfigMapName(config.jobName()) : null;
    Optional<String> namespace =
        config.namespace() != null ? Optional.of(config.namespace()) : kube.namespace();
    if (name == null || namespace.isEmpty()) {
      LOG.warn(
          "in a cluster but the config names no job (jobName or progress.configMap) or namespace:"
              + " progress goes to stdout only");
      return Optional.empty();
    }
    HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    try {
      Optional<SSLContext> tls = kube.sslContext();
      tls.ifPresent(http::sslContext);
    } catch (IOException e) {
      LOG.warn("{}; progress goes to stdout only", e.getMessage());
      return Optional.empty();
    }
    LOG.info("reporting progress to ConfigMap {}/{}", namespace.get(), name);
    return Optional.of(
        new ConfigMapProgressSink(
            kube.apiServer(), namespace.get(), name, kube.tokenFile(), http.build()));
  }

  /** Reports one progress document. */
  public synchronized void report(TrainerProgress progress) {
    if (progress.updatedAt() == null) {
      progress = stamped(progress);
    }
    latest = progress;
    stdout.println(Contract.write(progress));
    stdout.flush();
    if (sink == null || closed) {
      lastStage = progress.stage();
      return;
    }
    boolean stageChanged = progress.stage() != lastStage;
    lastStage = progress.stage();
    long now = nanoTime.getAsLong();
    if (!publishedAny
        || stageChanged
        || isTerminal(progress)
        || now - lastPublishedAt >= minIntervalNanos) {
      publish(progress, now);
    } else {
      pending = progress;
      scheduleFlush(now);
    }
  }

  /** The newest document reported, or null. */
  public synchronized TrainerProgress latest() {
    return latest;
  }

  /** Publishes the held-back update if its interval has passed. */
  public synchronized void flushIfDue() {
    if (pending != null && nanoTime.getAsLong() - lastPublishedAt >= minIntervalNanos) {
      publish(pending, nanoTime.getAsLong());
    }
  }

  /**
   * Publishes any held-back update, waits (boundedly) until the last one has been sent, and stops
   * the background thread.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      if (pending != null) {
        publish(pending, nanoTime.getAsLong());
      }
      closed = true;
      if (scheduledFlush != null) {
        scheduledFlush.cancel(false);
        scheduledFlush = null;
      }
    }
    // Outside the lock: the background thread may be waiting for it in a timer flush.
    if (scheduler != null) {
      scheduler.shutdown();
      try {
        if (!scheduler.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.warn("the last progress update was not sent within {} s", CLOSE_TIMEOUT.toSeconds());
          scheduler.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        scheduler.shutdownNow();
      }
    }
  }

  private void publish(TrainerProgress progress, long now) {
    pending = null;
    if (scheduledFlush != null) {
      scheduledFlush.cancel(false);
      scheduledFlush = null;
    }
    publishedAny = true;
    lastPublishedAt = now;
    // A slow or hanging API server must not slow the training loop: the background thread sends,
    // and if it is still busy when the next update comes, only the newest one is sent after it.
    if (outgoing.getAndSet(progress) == null) {
      if (scheduler == null) {
        drain();
      } else {
        try {
          scheduler.execute(this::drain);
        } catch (RuntimeException e) {
          LOG.debug("cannot hand the progress update to the sender: {}", e.toString());
        }
      }
    }
  }

  private void drain() {
    TrainerProgress progress = outgoing.getAndSet(null);
    if (progress == null) {
      return;
    }
    try {
      sink.publish(progress);
    } catch (RuntimeException e) {
      // Sinks report their own failures; this guards the training loop against a buggy one.
      LOG.warn("progress update failed: {}", e.toString());
    }
  }

  private void scheduleFlush(long now) {
    if (scheduler == null || scheduledFlush != null) {
      return;
    }
    long delay = Math.max(0, lastPublishedAt + minIntervalNanos - now);
    try {
      scheduledFlush = scheduler.schedule(this::timerFlush, delay, TimeUnit.NANOSECONDS);
    } catch (RuntimeException e) {
      LOG.debug("cannot schedule the progress flush: {}", e.toString());
    }
  }

  private synchronized void timerFlush() {
    scheduledFlush = null;
    if (!closed) {
      flushIfDue();
      if (pending != null) {
        scheduleFlush(nanoTime.getAsLong());
      }
    }
  }

  private static boolean isTerminal(TrainerProgress p) {
    return p.stage() == TrainerStage.SUCCEEDED || p.stage() == TrainerStage.FAILED;
  }

  private TrainerProgress stamped(TrainerProgress p) {
    String now = Instant.now(wallClock).truncatedTo(ChronoUnit.MILLIS).toString();
    return new TrainerProgress(
        p.schemaVersion(),
        p.stage(),
        p.step(),
        p.totalSteps(),
        p.epoch(),
        p.trainedTokens(),
        p.tokensPerSecond(),
        p.trainLoss(),
        p.learningRate(),
        p.latestEval(),
        p.baseline(),
        p.resolvedHyperparameters(),
        p.dataset(),
        p.checkpoints(),
        now,
        p.lossScale(),
        p.skippedSteps());
  }
}
