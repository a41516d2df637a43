package io.kubetune.operator.bench;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.javaoperatorsdk.operator.Operator;
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

/**
 * Operator benchmark on fabric8's mock API server (CRUD mode), in one JVM.
 *
 * <ol>
 *   <li>Latency: with {@code present} FineTuneJobs already reconciled, creates {@code measure}
 *       more, one at a time, and times create → trainer Job created. A watcher plays the validation
 *       pod and completes each validation Job as soon as it appears, so the figure is the
 *       operator's two reconcile round trips plus the API server, not a real pod's run time.
 *   <li>Heap: creates FineTuneJobs up to {@code heapJobs} in total, waits until every one has a
 *       status, then reports used heap after GC with the operator running, and again after it
 *       stopped; the difference is the operator's share (the mock server's store is in the same
 *       JVM).
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
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    // One INFO line per phase change and job would drown the figures.
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.kubetune"))
        .setLevel(ch.qos.logback.classic.Level.WARN);

    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    KubernetesClient client = server.createClient();
    GeneratedCrds.register(client);
    Map<String, Long> trainerCreatedAt = new ConcurrentHashMap<>();
    ExecutorService kubelet = Executors.newFixedThreadPool(2);
    var watch =
        client
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
                      kubelet.submit(() -> completeValidation(client, job));
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });

    Operator operator = OperatorBootstrap.newOperator(client);
    operator.register(new FineTuneJobReconciler(FineTuneJobSettings.defaults()));
    operator.start();

    long t = System.nanoTime();
    for (int i = 0; i < present; i++) {
      client.resource(FineTuneJobs.lora(NS, "present-" + i).build()).create();
    }
    waitFor(() -> trainerCreatedAt.size() >= present, "trainer Jobs for the present jobs");
    System.out.printf(
        "reconciled %d FineTuneJobs to trainer Job in %.1f s%n",
        present, (System.nanoTime() - t) / 1e9);

    List<Double> latencies = new ArrayList<>();
    for (int i = 0; i < measure; i++) {
      String name = "measured-" + i;
      long start = System.nanoTime();
      client.resource(FineTuneJobs.lora(NS, name).build()).create();
      waitFor(() -> trainerCreatedAt.containsKey(name), name);
      latencies.add((trainerCreatedAt.get(name) - start) / 1e6);
    }
    Collections.sort(latencies);
    System.out.printf(
        "create -> trainer Job created with %d FineTuneJobs present (n=%d): p50 %.0f ms, p99 %.0f"
            + " ms, max %.0f ms%n",
        present,
        measure,
        pct(latencies, 50),
        pct(latencies, 99),
        latencies.get(latencies.size() - 1));

    int total = present + measure;
    t = System.nanoTime();
    for (int i = total; i < heapJobs; i++) {
      client.resource(FineTuneJobs.lora(NS, "heap-" + i).build()).create();
    }
    waitFor(() -> trainerCreatedAt.size() >= Math.max(heapJobs, total), "all trainer Jobs");
    System.out.printf(
        "reconciled up to %d FineTuneJobs in total (%.1f s for the last %d)%n",
        Math.max(heapJobs, total), (System.nanoTime() - t) / 1e9, Math.max(0, heapJobs - total));
    long withOperator = usedHeapAfterGc();
    operator.stop();
    // Drop the last reference so the informer caches and controllers can be collected.
    operator = null;
    long withoutOperator = usedHeapAfterGc();
    System.out.printf(
        "heap after GC: %d MiB with the operator running, %d MiB after it stopped -> operator"
            + " share about %d MiB (max heap %d MiB)%n",
        withOperator >> 20,
        withoutOperator >> 20,
        (withOperator - withoutOperator) >> 20,
        Runtime.getRuntime().maxMemory() >> 20);

    watch.close();
    kubelet.shutdownNow();
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
