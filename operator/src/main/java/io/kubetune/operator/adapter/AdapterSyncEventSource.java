package io.kubetune.operator.adapter;

import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.javaoperatorsdk.operator.processing.event.source.ResourceEventAware;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.AdapterSynchronizer.DesiredAdapter;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.kubetune.operator.modelserver.AdapterSynchronizer.SyncResult;
import io.kubetune.operator.modelserver.DjlServingClient;
import io.kubetune.operator.modelserver.ModelServerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each AdapterDeployment's {@link AdapterSynchronizer} on its own executor and turns its
 * results into reconcile events, so that {@code reconcile()} never does HTTP and never waits.
 *
 * <p>The reconciler {@link #request requests} a sync with the desired adapters and the ready pods'
 * endpoints; a changed request syncs at once, an unchanged one is synced again after the resync
 * period (sooner while adapters are not all loaded). A sync whose outcome differs, as status would
 * show it, from the previous one triggers a reconcile, which reads it with {@link #latest}.
 */
final class AdapterSyncEventSource extends AbstractEventSource<SyncOutcome, AdapterDeployment>
    implements ResourceEventAware<AdapterDeployment> {

  private static final Logger LOG = LoggerFactory.getLogger(AdapterSyncEventSource.class);
  private static final Pattern RETRY_NOTE = Pattern.compile(" \\(next attempt in \\d+s\\)");

  /**
   * What to sync.
   *
   * @param desired adapters to load, in spec order
   * @param endpoints ready pods
   * @param podVersions per ready pod its uid and container restart count, so that a pod that was
   *     replaced or restarted (and lost its runtime registrations) is synced at once
   */
  record Request(
      List<DesiredAdapter> desired, List<PodEndpoint> endpoints, List<String> podVersions) {
    Request {
      desired = List.copyOf(desired);
      endpoints = List.copyOf(endpoints);
      podVersions = List.copyOf(podVersions);
    }
  }

  private final AdapterDeploymentSettings settings;
  private final Function<AdapterSynchronizer.Settings, AdapterSynchronizer> factory;
  private final Clock clock;
  private final Map<ResourceID, Runner> runners = new ConcurrentHashMap<>();
  private ScheduledExecutorService executor;
  private volatile ModelServerMetrics metrics = ModelServerMetrics.NONE;

  AdapterSyncEventSource(AdapterDeploymentSettings settings, Clock clock) {
    super(SyncOutcome.class, "adapter-sync");
    this.settings = settings;
    this.clock = clock;
    this.factory =
        s ->
            new AdapterSynchronizer(
                new DjlServingClient(Duration.ofSeconds(30), metrics), s, Clock.systemUTC());
  }

  AdapterSyncEventSource(
      AdapterDeploymentSettings settings,
      Function<AdapterSynchronizer.Settings, AdapterSynchronizer> factory,
      Clock clock) {
    super(SyncOutcome.class, "adapter-sync");
    this.settings = settings;
    this.factory = factory;
    this.clock = clock;
  }

  /**
   * Records model-server calls and sync failures of the synchronizers created from now on in {@code
   * registry}; called before the operator starts.
   */
  void bindTo(MeterRegistry registry) {
    metrics = new ModelServerMetrics(registry);
  }

  @Override
  public synchronized void start() throws OperatorException {
    AtomicInteger counter = new AtomicInteger();
    // A few deployments sync at once; each sync fans out over its pods on its own pool.
    executor =
        Executors.newScheduledThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "adapter-sync-runner-" + counter.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    super.start();
  }

  @Override
  public synchronized void stop() throws OperatorException {
    super.stop();
    if (executor != null) {
      executor.shutdownNow();
    }
    runners.values().forEach(Runner::close);
    runners.clear();
  }

  @Override
  public Set<SyncOutcome> getSecondaryResources(AdapterDeployment primary) {
    return latest(ResourceID.fromResource(primary)).map(Set::of).orElse(Set.of());
  }

  /** The latest finished sync of {@code id}, if any. */
  Optional<SyncOutcome> latest(ResourceID id) {
    Runner runner = runners.get(id);
    return runner == null ? Optional.empty() : Optional.ofNullable(runner.latest);
  }

  /**
   * Asks for {@code request} to be synced for {@code id}; returns at once.
   *
   * @param remembered served name and digest per adapter from the status, applied once when the
   *     synchronizer for {@code id} is created (after an operator restart)
   */
  void request(ResourceID id, Request request, Map<String, ServedVersion> remembered) {
    Runner runner =
        runners.computeIfAbsent(
            id,
            k -> {
              AdapterSynchronizer sync = factory.apply(settings.sync());
              remembered.forEach((name, v) -> sync.remember(name, v.servedName(), v.digest()));
              return new Runner(k, sync);
            });
    runner.want(request);
  }

  /** Served name and digest of an adapter version, as last reported in status. */
  record ServedVersion(String servedName, String digest) {}

  @Override
  public void onResourceDeleted(AdapterDeployment resource) {
    Runner runner = runners.remove(ResourceID.fromResource(resource));
    if (runner != null) {
      runner.close();
    }
  }

  /** Projection of a result onto what status shows, to decide whether to reconcile. */
  static String statusView(SyncResult result) {
    StringBuilder b = new StringBuilder();
    for (AdapterSynchronizer.AdapterResult a : result.adapters()) {
      b.append(a.name())
          .append('|')
          .append(a.digest())
          .append('|')
          .append(a.servedName())
          .append('|')
          .append(a.phase())
          .append('|')
          .append(a.reason())
          .append('|')
          .append(a.loadedReplicas())
          .append('/')
          .append(a.desiredReplicas())
          .append('|')
          .append(a.loadSeconds())
          .append('|')
          .append(stripRetryNote(a.message()))
          .append('\n');
    }
    b.append(new java.util.TreeMap<>(result.baseModelNotReady()));
    return b.toString();
  }

  /** Removes the "(next attempt in Ns)" countdown, which changes on every sync. */
  static String stripRetryNote(String message) {
    return message == null ? null : RETRY_NOTE.matcher(message).replaceAll("");
  }

  /** One AdapterDeployment's synchronizer and its schedule. */
  private final class Runner {
    private final ResourceID id;
    private final AdapterSynchronizer sync;
    private Request wanted;
    private Request lastRun;
    private boolean running;
    private volatile boolean closed;
    private ScheduledFuture<?> next;
    private volatile SyncOutcome latest;

    Runner(ResourceID id, AdapterSynchronizer sync) {
      this.id = id;
      this.sync = sync;
    }

    synchronized void want(Request request) {
      wanted = request;
      if (!running && !closed && !request.equals(lastRun)) {
        schedule(Duration.ZERO);
      }
    }

    private void schedule(Duration delay) {
      if (next != null) {
        next.cancel(false);
      }
      if (executor == null || executor.isShutdown()) {
        return;
      }
      next = executor.schedule(this::run, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
      Request request;
      synchronized (this) {
        if (running || closed) {
          return;
        }
        running = true;
        request = wanted;
      }
      SyncOutcome outcome = null;
      try {
        SyncResult result = sync.sync(request.desired(), request.endpoints());
        outcome = new SyncOutcome(request, result, clock.instant());
      } catch (RuntimeException e) {
        if (closed || executor.isShutdown()) {
          // Stopping: the sync was interrupted on purpose.
          LOG.debug("adapter sync of {} stopped", id);
        } else {
          // The reconciler validates the desired list; this is a bug, not a user mistake.
          LOG.error("adapter sync of {} failed", id, e);
        }
      }
      boolean changed = false;
      synchronized (this) {
        running = false;
        lastRun = request;
        if (outcome != null) {
          SyncOutcome previous = latest;
          changed =
              previous == null
                  || !previous.request().equals(outcome.request())
                  || !statusView(previous.result()).equals(statusView(outcome.result()));
          latest = outcome;
        }
        if (closed) {
          return;
        }
        if (!Objects.equals(wanted, lastRun)) {
          schedule(Duration.ZERO);
        } else {
          boolean converged = outcome != null && outcome.result().converged();
          schedule(converged ? settings.resync() : settings.pendingResync());
        }
      }
      if (changed && isRunning()) {
        getEventHandler().handleEvent(new Event(id));
      }
    }

    synchronized void close() {
      closed = true;
      if (next != null) {
        next.cancel(false);
      }
      sync.close();
    }
  }
}
