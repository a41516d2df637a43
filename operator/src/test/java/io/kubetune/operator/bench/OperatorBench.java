package io.kubetune.operator.bench;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.finetune.FineTuneJobReconciler;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import io.kubetune.operator.finetune.FineTuneJobs;
import io.kubetune.operator.finetune.Labels;
import io.kubetune.operator.testing.GeneratedCrds;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;

/**
 * Operator benchmark on fabric8's mock API server (CRUD mode), in one JVM.
 *
 * <p>The API server is {@link IndexedCrudDispatcher} (same semantics as fabric8's stock CRUD
 * dispatcher, but indexed, so its cost does not grow with the number of stored objects); {@code
 * -Dbench.stockMockServer=true} selects the stock dispatcher. The test driver and simulated kubelet
 * use their own client ({@code User-Agent: bench-fixture}), so API requests are counted per client.
 *
 * <ol>
 *   <li>Latency: with {@code present} FineTuneJobs already reconciled, creates {@code measure}
 *       more, one at a time, and times create → trainer Job created, split into create → validation
 *       Job created (first reconcile), the fixture completing validation (pod with the dataset
 *       report, then Job status), and validation complete → trainer Job created (second reconcile).
 *       Also reports reconcile() durations and API requests per measured job.
 *   <li>Heap: creates FineTuneJobs up to {@code heapJobs} in total, waits until every one has its
 *       trainer Job, measures one resync period of steady state, then reports used heap after GC
 *       with the operator running and after it stopped (the difference is the operator's share; the
 *       mock server's store is in the same JVM) and the class histogram difference.
 * </ol>
 *
 * <p>Run with {@code bench/operator/run.sh [present] [measure] [heapJobs]}.
 */
public final class OperatorBench {
  private static final String NS = "bench";

  // Held so the level sticks: the mock server logs every request at INFO through JUL.
  private static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private OperatorBench() {}

  public static void main(String[] args) throws Exception {
    int present = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int measure = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int heapJobs = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
    boolean stock = Boolean.getBoolean("bench.stockMockServer");
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    // One INFO line per phase change and job would drown the figures.
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.kubetune"))
        .setLevel(ch.qos.logback.classic.Level.WARN);

    IndexedCrudDispatcher indexed = stock ? null : new IndexedCrudDispatcher();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            stock ? new KubernetesCrudDispatcher() : indexed,
            false);
    server.init();
    System.out.printf(
        "mock API server: %s; load average at start %.2f%n",
        stock ? "stock CRUD dispatcher (linear scans)" : "indexed CRUD dispatcher",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    KubernetesClient client = server.createClient();
    // The fixture (test driver and simulated kubelet) has its own client and User-Agent, so its
    // requests are counted apart from the operator's.
    KubernetesClient fixture =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(client.getConfiguration()).withUserAgent("bench-fixture").build())
            .build();
    GeneratedCrds.register(fixture);
    Map<String, Long> trainerCreatedAt = new ConcurrentHashMap<>();
    Map<String, Long> validationCreatedAt = new ConcurrentHashMap<>();
    Map<String, Long> validationDoneAt = new ConcurrentHashMap<>();
    ExecutorService kubelet = Executors.newFixedThreadPool(2);
    var watch =
        fixture
            .batch()
            .v1()
            .jobs()
            .inNamespace(NS)
            .watch(
                new Watcher<Job>() {
                  @Override
                  public void eventReceived(Action action, Job job) {
                    if (action != Action.ADDED) {
                      return;
                    }
                    String component = job.getMetadata().getLabels().get(Labels.COMPONENT);
                    String owner = job.getMetadata().getLabels().get(Labels.FINETUNEJOB);
                    if ("trainer".equals(component)) {
                      trainerCreatedAt.putIfAbsent(owner, System.nanoTime());
                    } else if ("validation".equals(component)) {
                      validationCreatedAt.putIfAbsent(owner, System.nanoTime());
                      kubelet.submit(
                          () -> {
                            completeValidation(fixture, job);
                            validationDoneAt.putIfAbsent(owner, System.nanoTime());
                          });
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });

    ReconcileTimer timer = new ReconcileTimer();
    Operator operator = OperatorBootstrap.newOperator(client, o -> o.withMetrics(timer));
    operator.register(new FineTuneJobReconciler(FineTuneJobSettings.defaults()));
    operator.start();

    long t = System.nanoTime();
    for (int i = 0; i < present; i++) {
      fixture.resource(FineTuneJobs.lora(NS, "present-" + i).build()).create();
    }
    waitFor(() -> trainerCreatedAt.size() >= present, "trainer Jobs for the present jobs");
    System.out.printf(
        "reconciled %d FineTuneJobs to trainer Job in %.1f s%n",
        present, (System.nanoTime() - t) / 1e9);

    // Let the creates' follow-up events settle so the request counts below cover the measured
    // jobs (and the periodic resync of the present ones), not the tail of the load phase.
    Thread.sleep(2000);
    if (indexed != null) {
      indexed.resetCounts();
    }
    timer.reset();
    List<Double> latencies = new ArrayList<>();
    List<Double> firstReconcile = new ArrayList<>();
    List<Double> simulatedPod = new ArrayList<>();
    List<Double> secondReconcile = new ArrayList<>();
    long measureStart = System.nanoTime();
    for (int i = 0; i < measure; i++) {
      String name = "measured-" + i;
      long start = System.nanoTime();
      fixture.resource(FineTuneJobs.lora(NS, name).build()).create();
      waitFor(() -> trainerCreatedAt.containsKey(name), name);
      latencies.add((trainerCreatedAt.get(name) - start) / 1e6);
      firstReconcile.add((validationCreatedAt.get(name) - start) / 1e6);
      simulatedPod.add((validationDoneAt.get(name) - validationCreatedAt.get(name)) / 1e6);
      secondReconcile.add((trainerCreatedAt.get(name) - validationDoneAt.get(name)) / 1e6);
    }
    double measureSeconds = (System.nanoTime() - measureStart) / 1e9;
    System.out.printf(
        "create -> trainer Job created with %d FineTuneJobs present (n=%d): %s%n",
        present, measure, summary(latencies));
    System.out.printf("  of which: create -> validation Job created %s%n", summary(firstReconcile));
    System.out.printf(
        "            fixture completes validation (pod + Job status) %s%n", summary(simulatedPod));
    System.out.printf(
        "            validation complete -> trainer Job created %s%n", summary(secondReconcile));
    System.out.printf(
        "operator during the latency phase: %d events received, %d reconciles (%.2f per measured"
            + " FineTuneJob), reconcile() duration %s%n",
        timer.events.sum(),
        timer.durations.size(),
        timer.durations.size() / (double) measure,
        summary(timer.durations));
    if (indexed != null) {
      System.out.printf(
          "API requests during the latency phase (%.1f s; includes the resync of the present"
              + " jobs), per measured FineTuneJob:%n",
          measureSeconds);
      indexed
          .requestCounts()
          .forEach(
              (k, v) -> System.out.printf("  %-45s %7.2f  (%d)%n", k, v / (double) measure, v));
    }

    int total = present + measure;
    t = System.nanoTime();
    for (int i = total; i < heapJobs; i++) {
      fixture.resource(FineTuneJobs.lora(NS, "heap-" + i).build()).create();
    }
    waitFor(() -> trainerCreatedAt.size() >= Math.max(heapJobs, total), "all trainer Jobs");
    System.out.printf(
        "reconciled up to %d FineTuneJobs in total (%.1f s for the last %d)%n",
        Math.max(heapJobs, total), (System.nanoTime() - t) / 1e9, Math.max(0, heapJobs - total));
    printStoredSizes(fixture, Math.max(heapJobs, total));
    // Steady state: nothing changes, so the operator's only work is the periodic resync of
    // every unfinished job (FineTuneJobSettings.resync).
    timer.reset();
    long cpu0 = processCpuNanos();
    long idleStart = System.nanoTime();
    // One full resync period (the default, 60 s), so every unfinished job is resynced once.
    Thread.sleep(FineTuneJobSettings.defaults().resync().toMillis());
    double idleSeconds = (System.nanoTime() - idleStart) / 1e9;
    System.out.printf(
        "steady state with %d unfinished FineTuneJobs, %.0f s: %d reconciles (%.1f/s), reconcile()"
            + " %s, process CPU %.2f cores%n",
        Math.max(heapJobs, total),
        idleSeconds,
        timer.durations.size(),
        timer.durations.size() / idleSeconds,
        summary(timer.durations),
        (processCpuNanos() - cpu0) / 1e9 / idleSeconds);
    long withOperator = usedHeapAfterGc();
    Map<String, long[]> histogramWith = histogram();
    operator.stop();
    // Drop the last reference so the informer caches and controllers can be collected.
    operator = null;
    long withoutOperator = usedHeapAfterGc();
    Map<String, long[]> histogramWithout = histogram();
    System.out.printf(
        "heap after GC: %d MiB with the operator running, %d MiB after it stopped -> operator"
            + " share about %d MiB (max heap %d MiB)%n",
        withOperator >> 20,
        withoutOperator >> 20,
        (withOperator - withoutOperator) >> 20,
        Runtime.getRuntime().maxMemory() >> 20);
    printHistogramDifference(histogramWith, histogramWithout, Math.max(heapJobs, total));
    System.out.printf(
        "load average at end %.2f; threads started in the JVM: %d%n",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        ManagementFactory.getThreadMXBean().getTotalStartedThreadCount());

    watch.close();
    kubelet.shutdownNow();
    fixture.close();
    client.close();
    server.destroy();
    System.exit(0);
  }

  private static void completeValidation(KubernetesClient client, Job job) {
    String report =
        Contract.writeBounded(new DatasetReport(true, "chat", 90, 10, 5000, 0, 0, List.of()));
    client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(job.getMetadata().getName() + "-pod")
                .withNamespace(NS)
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
                .withCreationTimestamp(Instant.now().toString())
                .endMetadata()
                .withNewStatus()
                .withPhase("Succeeded")
                .withContainerStatuses(
                    new ContainerStatusBuilder()
                        .withName("trainer")
                        .withNewState()
                        .withNewTerminated()
                        .withExitCode(0)
                        .withMessage(report)
                        .endTerminated()
                        .endState()
                        .build())
                .endStatus()
                .build())
        .create();
    Job current =
        client.batch().v1().jobs().inNamespace(NS).withName(job.getMetadata().getName()).get();
    current.setStatus(
        new JobStatusBuilder()
            .withSucceeded(1)
            .withConditions(
                new JobConditionBuilder().withType("Complete").withStatus("True").build())
            .build());
    client.resource(current).updateStatus();
  }

  /** Counts events and times every reconcile() through JOSDK's metrics hook. */
  private static final class ReconcileTimer implements Metrics {
    final java.util.concurrent.atomic.LongAdder events =
        new java.util.concurrent.atomic.LongAdder();
    final List<Double> durations = Collections.synchronizedList(new ArrayList<>());

    void reset() {
      events.reset();
      durations.clear();
    }

    @Override
    public void receivedEvent(Event event, Map<String, Object> metadata) {
      events.increment();
    }

    @Override
    public <T> T timeControllerExecution(ControllerExecution<T> execution) throws Exception {
      long start = System.nanoTime();
      try {
        return execution.execute();
      } finally {
        durations.add((System.nanoTime() - start) / 1e6);
      }
    }
  }

  /** What the operator's informers mirror, as JSON on the API server, per FineTuneJob. */
  private static void printStoredSizes(KubernetesClient fixture, int jobs) {
    io.fabric8.kubernetes.client.utils.KubernetesSerialization json =
        fixture.getKubernetesSerialization();
    Map<String, List<? extends io.fabric8.kubernetes.api.model.HasMetadata>> kinds =
        new java.util.LinkedHashMap<>();
    kinds.put(
        "FineTuneJob",
        fixture
            .resources(io.kubetune.operator.api.v1alpha1.FineTuneJob.class)
            .inNamespace(NS)
            .list()
            .getItems());
    kinds.put("Job", fixture.batch().v1().jobs().inNamespace(NS).list().getItems());
    kinds.put("Pod", fixture.pods().inNamespace(NS).list().getItems());
    kinds.put("ConfigMap", fixture.configMaps().inNamespace(NS).list().getItems());
    kinds.put("ServiceAccount", fixture.serviceAccounts().inNamespace(NS).list().getItems());
    kinds.put("Role", fixture.rbac().roles().inNamespace(NS).list().getItems());
    kinds.put("RoleBinding", fixture.rbac().roleBindings().inNamespace(NS).list().getItems());
    kinds.put("Event (not cached)", fixture.v1().events().inNamespace(NS).list().getItems());
    System.out.println("objects on the API server per FineTuneJob (count, JSON bytes):");
    kinds.forEach(
        (kind, items) ->
            System.out.printf(
                "  %-20s %5.2f %7d%n",
                kind,
                items.size() / (double) jobs,
                items.stream().mapToLong(i -> json.asJson(i).length()).sum() / jobs));
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static String summary(List<Double> values) {
    if (values.isEmpty()) {
      return "(none)";
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return String.format(
        "p50 %.0f ms, p99 %.0f ms, max %.0f ms",
        pct(sorted, 50), pct(sorted, 99), sorted.get(sorted.size() - 1));
  }

  /** Class → {instances, bytes} from the JVM's GC.class_histogram (live objects, after a GC). */
  private static Map<String, long[]> histogram() throws Exception {
    String text =
        (String)
            ManagementFactory.getPlatformMBeanServer()
                .invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram",
                    new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
    Map<String, long[]> classes = new HashMap<>();
    for (String line : text.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 4 && f[0].endsWith(":")) {
        classes.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
      }
    }
    return classes;
  }

  private static void printHistogramDifference(
      Map<String, long[]> with, Map<String, long[]> without, int jobs) {
    List<Map.Entry<String, long[]>> diff = new ArrayList<>();
    for (Map.Entry<String, long[]> e : with.entrySet()) {
      long[] w = without.getOrDefault(e.getKey(), new long[2]);
      diff.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - w[0], e.getValue()[1] - w[1]}));
    }
    diff.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
    long total = diff.stream().mapToLong(e -> e.getValue()[1]).sum();
    System.out.printf(
        "class histogram, operator running minus stopped: %d MiB in total, %d bytes per"
            + " FineTuneJob; largest classes:%n",
        total >> 20, total / jobs);
    System.out.printf("  %12s %12s %10s  %s%n", "instances", "bytes", "bytes/job", "class");
    diff.stream()
        .limit(25)
        .forEach(
            e ->
                System.out.printf(
                    "  %12d %12d %10d  %s%n",
                    e.getValue()[0], e.getValue()[1], e.getValue()[1] / jobs, e.getKey()));
  }

  private static double pct(List<Double> sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void waitFor(java.util.function.BooleanSupplier done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(2);
    }
  }
}
