package io.kubetune.operator.runtime;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RegisteredController;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.metrics.ResourceMetrics;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running operator process: the JOSDK operator with kubetune's configuration, Prometheus
 * metrics, leader election and the probe/metrics HTTP server. {@code Main} and the tests start it
 * the same way.
 */
public final class OperatorRuntime implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);

  private final Operator operator;
  private final PrometheusMeterRegistry registry;
  private final ProbeServer probes;
  private final AtomicBoolean stopping;
  private final AtomicBoolean closed = new AtomicBoolean();

  private OperatorRuntime(
      Operator operator,
      PrometheusMeterRegistry registry,
      ProbeServer probes,
      AtomicBoolean stopping) {
    this.operator = operator;
    this.registry = registry;
    this.probes = probes;
    this.stopping = stopping;
  }

  /**
   * Builds and starts the operator, registering {@code reconcilers} with the watched namespaces of
   * {@code settings}, and starts serving probes and metrics.
   *
   * <p>The probe server starts before the operator so the kubelet sees a 503 (not a refused
   * connection) while informer caches sync.
   */
  public static OperatorRuntime start(
      OperatorSettings settings, KubernetesClient client, List<Reconciler<?>> reconcilers) {
    return start(
        settings,
        client,
        reconcilers,
        () -> {
          // Another replica may already be reconciling: stop at once rather than race it.
          LOG.error("lost the leader Lease; exiting so a fresh process can campaign again");
          System.exit(1);
        });
  }

  /**
   * Like {@link #start(OperatorSettings, KubernetesClient, List)} with a chosen reaction to losing
   * the leader Lease while running (not during a graceful stop). Tests pass a recorder; production
   * exits.
   */
  public static OperatorRuntime start(
      OperatorSettings settings,
      KubernetesClient client,
      List<Reconciler<?>> reconcilers,
      Runnable onLeadershipLost) {
    AtomicBoolean stopping = new AtomicBoolean();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);

    Runnable lost =
        () -> {
          if (!stopping.get()) {
            onLeadershipLost.run();
          }
        };
    Operator operator = OperatorBootstrap.newOperator(client, extras(settings, registry, lost));
    List<RegisteredController<?>> controllers = new ArrayList<>();
    for (Reconciler<?> reconciler : reconcilers) {
      if (reconciler instanceof MeterBinder binder) {
        // kubetune's own metrics (model-server calls, sync errors); before any reconcile.
        binder.bindTo(registry);
      }
      controllers.add(register(operator, reconciler, settings));
    }
    registry.getPrometheusRegistry().register(ResourceMetrics.of(controllers));
    ProbeServer probes;
    try {
      probes =
          ProbeServer.start(
              settings.httpPort(),
              () -> liveness(operator),
              () -> stopping.get() ? new ProbeServer.Health(false, "stopping") : liveness(operator),
              registry::scrape);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on port "
              + settings.httpPort()
              + " ("
              + OperatorSettings.HTTP_PORT
              + "); choose a free port",
          e);
    }
    OperatorRuntime runtime = new OperatorRuntime(operator, registry, probes, stopping);
    if (reconcilers.isEmpty()) {
      // JOSDK refuses to start without controllers; serving probes keeps the process inspectable.
      LOG.warn("no reconcilers registered: the operator serves probes and metrics only");
      return runtime;
    }
    LOG.info(
        "starting operator: namespaces={}, leaderElection={}, probes and metrics on port {}",
        settings.watchesAllNamespaces() ? "all" : settings.watchedNamespaces(),
        settings.leaderElection(),
        probes.port());
    try {
      operator.start();
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
    return runtime;
  }

  /**
   * Returns the JOSDK configuration additions for {@code settings}: Micrometer metrics and, when
   * enabled, leader election.
   */
  static Consumer<ConfigurationServiceOverrider> extras(
      OperatorSettings settings, PrometheusMeterRegistry registry, Runnable onLeadershipLost) {
    return o -> {
      o.withMetrics(MicrometerMetrics.withoutPerResourceMetrics(registry));
      if (settings.leaderElection()) {
        o.withLeaderElectionConfiguration(leaderElection(settings, onLeadershipLost));
      }
    };
  }

  /**
   * Returns the leader election configuration for {@code settings}.
   *
   * <p>JOSDK's own exit-on-stop-leading is off because it also fires when the operator stops
   * gracefully (releasing the Lease), which would turn every clean shutdown into exit code 1;
   * {@code onLeadershipLost} is only called when leadership is lost while running.
   */
  static LeaderElectionConfiguration leaderElection(
      OperatorSettings settings, Runnable onLeadershipLost) {
    return new LeaderElectionConfiguration(
        settings.leaseName(),
        settings.leaseNamespace().orElse(null),
        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
        settings.identity().orElse(null),
        new LeaderCallbacks(() -> {}, onLeadershipLost, leader -> {}),
        false);
  }

  private static <P extends HasMetadata> RegisteredController<P> register(
      Operator operator, Reconciler<P> reconciler, OperatorSettings settings) {
    return operator.register(reconciler, o -> applyNamespaces(o, settings));
  }

  /** Points a reconciler at the namespaces the operator was told to watch. */
  static <P extends HasMetadata> void applyNamespaces(
      ControllerConfigurationOverrider<P> overrider, OperatorSettings settings) {
    if (settings.watchesAllNamespaces()) {
      overrider.watchingAllNamespaces();
    } else {
      overrider.settingNamespaces(settings.watchedNamespaces());
    }
  }

  private static ProbeServer.Health liveness(Operator operator) {
    if (operator.getRegisteredControllersNumber() == 0) {
      return new ProbeServer.Health(true, "ok (no reconcilers registered)");
    }
    RuntimeInfo info = operator.getRuntimeInfo();
    if (!info.isStarted()) {
      return new ProbeServer.Health(false, "starting");
    }
    if (!info.allEventSourcesAreHealthy()) {
      Map<String, Object> unhealthy = new TreeMap<>();
      info.unhealthyEventSources()
          .forEach((controller, sources) -> unhealthy.put(controller, sources.keySet()));
      return new ProbeServer.Health(false, "unhealthy event sources: " + unhealthy);
    }
    return new ProbeServer.Health(true, "ok");
  }

  /** Returns the JOSDK operator. */
  public Operator operator() {
    return operator;
  }

  /** Returns the metrics registry served on /metrics. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Returns the port serving /healthz, /readyz and /metrics. */
  public int httpPort() {
    return probes.port();
  }

  /**
   * Stops the operator: readiness turns 503 first, then the operator stops (releasing the leader
   * Lease), then the HTTP server closes. Safe to call more than once.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    stopping.set(true);
    LOG.info("stopping operator");
    try {
      operator.stop();
    } catch (RuntimeException e) {
      LOG.warn("error while stopping the operator", e);
    } finally {
      probes.close();
      registry.close();
    }
  }
}
