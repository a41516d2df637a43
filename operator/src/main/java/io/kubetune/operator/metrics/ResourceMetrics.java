package io.kubetune.operator.metrics;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.RegisteredController;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges computed at scrape time from the operator's informer caches of FineTuneJobs and
 * AdapterDeployments (the way kube-state-metrics works), so they hold no state of their own: they
 * are right after an operator restart as soon as the caches have synced, and the series of a
 * deleted resource disappear with it from the next scrape.
 *
 * <p>They mirror the resources' status, i.e. what {@code kubectl get ftj,ad} shows. Every replica
 * of the operator exports them from its own cache, so dashboards aggregate them with {@code max by}
 * rather than {@code sum by} over pods.
 *
 * <p>A resource's namespace is the label {@code resource_namespace}: Prometheus gives every series
 * of a scrape target the target's {@code namespace} (the operator's), and would rename a clashing
 * label to {@code exported_namespace}.
 */
public final class ResourceMetrics implements MultiCollector {

  private static final Logger LOG = LoggerFactory.getLogger(ResourceMetrics.class);

  /** FineTuneJobs per namespace and phase. */
  public static final String FINETUNEJOBS = "kubetune_finetunejobs";

  /** Latest training loss of a running FineTuneJob. */
  public static final String TRAIN_LOSS = "kubetune_finetunejob_train_loss";

  /** Latest validation loss of a running FineTuneJob. */
  public static final String VALID_LOSS = "kubetune_finetunejob_valid_loss";

  /** Training throughput of a running FineTuneJob. */
  public static final String TOKENS_PER_SECOND = "kubetune_finetunejob_tokens_per_second";

  /** Steps done over total steps of a running FineTuneJob. */
  public static final String PROGRESS = "kubetune_finetunejob_progress_ratio";

  /** Adapters per AdapterDeployment and phase. */
  public static final String ADAPTERS = "kubetune_adapterdeployment_adapters";

  /** Ready serving pods where an adapter's desired version is loaded. */
  public static final String LOADED_REPLICAS = "kubetune_adapter_loaded_replicas";

  /** Ready serving pods an adapter should be loaded on. */
  public static final String DESIRED_REPLICAS = "kubetune_adapter_desired_replicas";

  /** Every family this collector may export. */
  public static final List<String> NAMES =
      List.of(
          FINETUNEJOBS,
          TRAIN_LOSS,
          VALID_LOSS,
          TOKENS_PER_SECOND,
          PROGRESS,
          ADAPTERS,
          LOADED_REPLICAS,
          DESIRED_REPLICAS);

  private final Supplier<Stream<FineTuneJob>> jobs;
  private final Supplier<Stream<AdapterDeployment>> deployments;

  /**
   * Creates the collector.
   *
   * @param jobs lists the FineTuneJobs in the operator's cache
   * @param deployments lists the AdapterDeployments in the operator's cache
   */
  public ResourceMetrics(
      Supplier<Stream<FineTuneJob>> jobs, Supplier<Stream<AdapterDeployment>> deployments) {
    this.jobs = jobs;
    this.deployments = deployments;
  }

  /**
   * Returns the collector reading the primary caches of the FineTuneJob and AdapterDeployment
   * controllers among {@code controllers}; a kind without a controller exports nothing.
   */
  public static ResourceMetrics of(List<RegisteredController<?>> controllers) {
    return new ResourceMetrics(
        primaryCache(controllers, FineTuneJob.class),
        primaryCache(controllers, AdapterDeployment.class));
  }

  private static <P extends HasMetadata> Supplier<Stream<P>> primaryCache(
      List<RegisteredController<?>> controllers, Class<P> type) {
    for (RegisteredController<?> registered : controllers) {
      // JOSDK's RegisteredController is its Controller, which hands out the informer cache the
      // reconciler itself reads (EventSourceContext#getPrimaryCache): no second watch is needed.
      if (registered instanceof Controller<?> controller
          && controller.getConfiguration().getResourceClass().equals(type)) {
        IndexerResourceCache<?> cache = controller.eventSourceContext().getPrimaryCache();
        return () -> cache.list().map(type::cast);
      }
    }
    return Stream::empty;
  }

  @Override
  public List<String> getPrometheusNames() {
    return NAMES;
  }

  @Override
  public MetricSnapshots collect() {
    List<MetricSnapshot> out = new ArrayList<>();
    out.addAll(jobMetrics(list(jobs, "FineTuneJob")));
    out.addAll(adapterMetrics(list(deployments, "AdapterDeployment")));
    return new MetricSnapshots(out);
  }

  private static <T> List<T> list(Supplier<Stream<T>> cache, String kind) {
    try {
      return cache.get().toList();
    } catch (RuntimeException e) {
      // Before the informers have started (the metrics port opens first) there is no cache yet.
      LOG.debug("no {} cache to export metrics from yet: {}", kind, e.toString());
      return List.of();
    }
  }

  static List<MetricSnapshot> jobMetrics(List<FineTuneJob> jobs) {
    // Every phase of every namespace that has jobs, zeros included, so that a phase emptying out
    // reads 0 (not "no data") and `> 0` alerts resolve.
    Map<String, Map<Phase, Integer>> byNamespace = new TreeMap<>();
    GaugeSnapshot.Builder trainLoss = gauge(TRAIN_LOSS, "Latest training loss of a running job.");
    GaugeSnapshot.Builder validLoss = gauge(VALID_LOSS, "Latest validation loss of a running job.");
    GaugeSnapshot.Builder tokens =
        gauge(TOKENS_PER_SECOND, "Training throughput of a running job, in tokens per second.");
    GaugeSnapshot.Builder progress =
        gauge(PROGRESS, "Steps done over total steps of a running job (0 to 1).");
    for (FineTuneJob job : jobs) {
      String ns = job.getMetadata().getNamespace();
      FineTuneJobStatus status = job.getStatus();
      // Not reconciled yet: the operator has accepted it and nothing else happened, as Pending.
      Phase phase = status == null || status.phase == null ? Phase.Pending : status.phase;
      byNamespace.computeIfAbsent(ns, k -> zeros(Phase.class)).merge(phase, 1, Integer::sum);
      if (phase != Phase.Running) {
        // Per-job series exist only while a job runs: their number is bounded by the jobs that
        // hold GPUs now, not by every job ever kept for GitOps.
        continue;
      }
      Labels labels =
          Labels.of("resource_namespace", ns, "finetunejob", job.getMetadata().getName());
      if (status.metrics != null) {
        add(trainLoss, labels, status.metrics.trainLoss);
        add(validLoss, labels, status.metrics.validLoss);
      }
      if (status.progress != null) {
        add(tokens, labels, status.progress.tokensPerSecond);
        if (status.progress.step != null
            && status.progress.totalSteps != null
            && status.progress.totalSteps > 0) {
          add(
              progress,
              labels,
              Math.min(1.0, (double) status.progress.step / status.progress.totalSteps));
        }
      }
    }
    GaugeSnapshot.Builder count =
        gauge(FINETUNEJOBS, "FineTuneJobs by namespace and status phase.");
    byNamespace.forEach(
        (ns, phases) ->
            phases.forEach(
                (phase, n) ->
                    add(
                        count,
                        Labels.of("resource_namespace", ns, "phase", phase.name()),
                        (double) n)));
    return List.of(
        count.build(), trainLoss.build(), validLoss.build(), tokens.build(), progress.build());
  }

  static List<MetricSnapshot> adapterMetrics(List<AdapterDeployment> deployments) {
    GaugeSnapshot.Builder adapters =
        gauge(ADAPTERS, "Adapters of an AdapterDeployment by status phase.");
    GaugeSnapshot.Builder loaded =
        gauge(
            LOADED_REPLICAS,
            "Ready serving pods where the adapter's desired version is loaded and confirmed.");
    GaugeSnapshot.Builder desired =
        gauge(DESIRED_REPLICAS, "Ready serving pods the adapter should be loaded on.");
    for (AdapterDeployment ad : deployments) {
      String ns = ad.getMetadata().getNamespace();
      String name = ad.getMetadata().getName();
      AdapterDeploymentStatus status = ad.getStatus();
      Map<AdapterPhase, Integer> phases = zeros(AdapterPhase.class);
      if (status != null && status.adapters != null) {
        for (AdapterState a : status.adapters) {
          phases.merge(a.phase == null ? AdapterPhase.Pending : a.phase, 1, Integer::sum);
          // spec.adapters has at most 256 entries, and series go when the adapter leaves the spec.
          Labels labels =
              Labels.of(
                  "resource_namespace",
                  ns,
                  "adapterdeployment",
                  name,
                  "adapter",
                  String.valueOf(a.name));
          add(loaded, labels, a.loadedReplicas == null ? 0.0 : a.loadedReplicas);
          add(desired, labels, a.desiredReplicas == null ? 0.0 : a.desiredReplicas);
        }
      }
      phases.forEach(
          (phase, n) ->
              add(
                  adapters,
                  Labels.of(
                      "resource_namespace", ns, "adapterdeployment", name, "phase", phase.name()),
                  (double) n));
    }
    return List.of(adapters.build(), loaded.build(), desired.build());
  }

  private static <E extends Enum<E>> Map<E, Integer> zeros(Class<E> type) {
    Map<E, Integer> map = new EnumMap<>(type);
    for (E e : type.getEnumConstants()) {
      map.put(e, 0);
    }
    return map;
  }

  private static GaugeSnapshot.Builder gauge(String name, String help) {
    return GaugeSnapshot.builder().name(name).help(help);
  }

  private static void add(GaugeSnapshot.Builder gauge, Labels labels, Double value) {
    if (value != null && !value.isNaN()) {
      gauge.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(value).build());
    }
  }
}
