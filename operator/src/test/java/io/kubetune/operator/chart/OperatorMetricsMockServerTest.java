package io.kubetune.operator.chart;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.operator.adapter.AdapterDeploymentReconciler;
import io.kubetune.operator.adapter.AdapterDeploymentSettings;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterSource;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.api.v1alpha1.ResourcesSpec;
import io.kubetune.operator.finetune.FineTuneJobReconciler;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import io.kubetune.operator.finetune.FineTuneJobs;
import io.kubetune.operator.metrics.ResourceMetrics;
import io.kubetune.operator.runtime.OperatorRuntime;
import io.kubetune.operator.runtime.OperatorSettings;
import io.kubetune.operator.testing.FakeServingPods;
import io.kubetune.operator.testing.GeneratedCrds;
import io.kubetune.operator.testing.Jobs;
import io.kubetune.operator.testing.PeftAdapters;
import io.kubetune.operator.testing.Pods;
import io.kubetune.operator.testing.TrainerProgresses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees on the operator's /metrics while the real reconcilers run on a mock API server:
 * FineTuneJobs by phase and the trainer's numbers, adapters loaded and failed, model-server call
 * latency and sync errors; deleted jobs drop out, a restarted operator reports the same counts at
 * once, and every kubetune metric the Grafana dashboard queries is among those exported.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorMetricsMockServerTest {
  private static final String ML = "ml";
  private static final String SERVING = "serving";
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern KUBETUNE_METRIC = Pattern.compile("\\b(kubetune_[a-z0-9_]+)\\b");

  KubernetesClient client;
  @TempDir Path artifacts;

  private final FakeServingPods fakes = new FakeServingPods();
  private OperatorRuntime runtime;

  @AfterEach
  void stop() {
    if (runtime != null) {
      runtime.close();
    }
    fakes.close();
  }

  @Test
  void jobsAdaptersAndModelServerCallsShowOnMetrics() throws Exception {
    GeneratedCrds.register(client);
    runtime = start();

    running("train-a");
    running("train-b");
    failed("broken");
    progress("train-a");

    writeAdapter("a", "a");
    writeAdapter("b", "b");
    client.resource(adapterDeployment("chat", "a", "b")).create();
    // One LoRA slot: the second registration is answered 507 No free lora slots.
    fakes.readyPod(client, SERVING, "chat", "chat-0", f -> f.maxLoras(1));

    Map<String, String> running = Map.of("resource_namespace", ML, "phase", "Running");
    Map<String, String> trainA = Map.of("resource_namespace", ML, "finetunejob", "train-a");
    Map<String, String> loaded =
        Map.of("resource_namespace", SERVING, "adapterdeployment", "chat", "phase", "Loaded");
    Map<String, String> failedAdapters =
        Map.of("resource_namespace", SERVING, "adapterdeployment", "chat", "phase", "Failed");
    String scrape =
        awaitScrape(
            "2 running jobs with progress, 1 failed; adapter a loaded, b failed",
            s ->
                value(s, ResourceMetrics.FINETUNEJOBS, running) == 2.0
                    && value(s, ResourceMetrics.TRAIN_LOSS, trainA) != null
                    && value(s, ResourceMetrics.ADAPTERS, loaded) == 1.0
                    && value(s, ResourceMetrics.ADAPTERS, failedAdapters) == 1.0);

    assertEquals(1.0, value(scrape, ResourceMetrics.FINETUNEJOBS, phase(ML, "Failed")));
    assertEquals(0.0, value(scrape, ResourceMetrics.FINETUNEJOBS, phase(ML, "Succeeded")));
    assertEquals(1.25, value(scrape, ResourceMetrics.TRAIN_LOSS, trainA));
    assertEquals(1.4, value(scrape, ResourceMetrics.VALID_LOSS, trainA));
    assertEquals(1500.0, value(scrape, ResourceMetrics.TOKENS_PER_SECOND, trainA));
    assertEquals(0.25, value(scrape, ResourceMetrics.PROGRESS, trainA));
    assertEquals(
        null,
        value(
            scrape,
            ResourceMetrics.TRAIN_LOSS,
            Map.of("resource_namespace", ML, "finetunejob", "broken")),
        "no per-job series for a job that is not running");

    Map<String, String> adapterA =
        Map.of("resource_namespace", SERVING, "adapterdeployment", "chat", "adapter", "a");
    Map<String, String> adapterB =
        Map.of("resource_namespace", SERVING, "adapterdeployment", "chat", "adapter", "b");
    assertEquals(1.0, value(scrape, ResourceMetrics.LOADED_REPLICAS, adapterA));
    assertEquals(0.0, value(scrape, ResourceMetrics.LOADED_REPLICAS, adapterB));
    assertEquals(1.0, value(scrape, ResourceMetrics.DESIRED_REPLICAS, adapterB));

    // Model-server latency histogram: the successful and the refused registration are both timed.
    String calls = "kubetune_modelserver_request_duration_seconds";
    assertTrue(
        value(scrape, calls + "_count", Map.of("operation", "register", "outcome", "2xx")) >= 1);
    assertTrue(
        value(scrape, calls + "_count", Map.of("operation", "register", "outcome", "5xx")) >= 1);
    assertTrue(
        value(
                scrape,
                calls + "_bucket",
                Map.of("operation", "register", "outcome", "2xx", "le", "+Inf"))
            >= 1);
    for (String op : List.of("ping", "list", "confirm_inference")) {
      assertTrue(
          value(scrape, calls + "_count", Map.of("operation", op, "outcome", "2xx")) >= 1, op);
    }
    assertTrue(
        value(scrape, "kubetune_adapter_sync_errors_total", Map.of("reason", "NoFreeLoraSlots"))
            >= 1);

    // The dashboard queries only kubetune metrics the operator exports.
    Set<String> exported = MetricsScrape.names(scrape);
    Set<String> missing = new TreeSet<>();
    List<String> queries =
        ObservabilityMockServerTest.queries(ObservabilityMockServerTest.dashboard());
    for (String query : queries) {
      Matcher m = KUBETUNE_METRIC.matcher(query);
      while (m.find()) {
        if (!exported.contains(m.group(1))) {
          missing.add(m.group(1));
        }
      }
    }
    assertEquals(Set.of(), missing, "dashboard queries kubetune metrics the operator lacks");
    assertTrue(
        queries.stream().anyMatch(q -> q.contains("kubetune_")), "no kubetune panel on dashboard");

    // docs/observability.md documents every kubetune metric family exported, and no other.
    Set<String> families = new TreeSet<>();
    for (String name : exported) {
      if (name.startsWith("kubetune_")) {
        families.add(name.replaceAll("_(bucket|count|sum|max)$", ""));
      }
    }
    Set<String> documented = new TreeSet<>();
    Matcher doc =
        KUBETUNE_METRIC.matcher(
            Files.readString(Charts.repositoryRoot().resolve("docs").resolve("observability.md")));
    while (doc.find()) {
      documented.add(doc.group(1).replaceAll("_(bucket|count|sum|max)$", ""));
    }
    assertEquals(families, documented, "kubetune metrics in docs/observability.md vs /metrics");

    // A deleted job leaves the counts and its series go with it.
    client.resources(FineTuneJob.class).inNamespace(ML).withName("train-a").delete();
    scrape =
        awaitScrape(
            "train-a gone",
            s -> Double.valueOf(1.0).equals(value(s, ResourceMetrics.FINETUNEJOBS, running)));
    assertEquals(null, value(scrape, ResourceMetrics.TRAIN_LOSS, trainA));
    assertEquals(null, value(scrape, ResourceMetrics.TOKENS_PER_SECOND, trainA));

    // A restarted operator reports the same counts as soon as it has started (no counter drift).
    runtime.close();
    runtime = start();
    scrape = runtime.registry().scrape();
    assertEquals(1.0, value(scrape, ResourceMetrics.FINETUNEJOBS, running), scrape);
    assertEquals(1.0, value(scrape, ResourceMetrics.FINETUNEJOBS, phase(ML, "Failed")));
    assertEquals(1.0, value(scrape, ResourceMetrics.ADAPTERS, failedAdapters));

    // The last job of a namespace gone: no series are left for it.
    client.resources(FineTuneJob.class).inNamespace(ML).delete();
    scrape =
        awaitScrape(
            "no jobs left in " + ML,
            s -> value(s, ResourceMetrics.FINETUNEJOBS, phase(ML, "Failed")) == null);
    assertFalse(scrape.contains("resource_namespace=\"" + ML + "\""), scrape);
  }

  // ------------------------------------------------------------------ operator

  private OperatorRuntime start() {
    AdapterDeploymentSettings adSettings =
        FakeServingPods.fastSync(AdapterDeploymentSettings.defaults().withArtifactsRoot(artifacts));
    OperatorSettings settings =
        OperatorSettings.fromEnv(
            Map.of(
                OperatorSettings.WATCH_NAMESPACES,
                ML + "," + SERVING,
                OperatorSettings.HTTP_PORT,
                "0"));
    return OperatorRuntime.start(
        settings,
        client,
        List.of(
            new FineTuneJobReconciler(FineTuneJobSettings.defaults()),
            new AdapterDeploymentReconciler(adSettings, fakes::endpoint, Clock.systemUTC())),
        () -> {});
  }

  private String awaitScrape(String what, java.util.function.Predicate<String> condition) {
    return await(what)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptionsInstanceOf(NullPointerException.class)
        .until(() -> runtime.registry().scrape(), condition);
  }

  // ------------------------------------------------------------------ exposition

  private static final Pattern SAMPLE =
      Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)\\})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

  /** The value of the sample of {@code name} whose labels include {@code labels}, or null. */
  static Double value(String scrape, String name, Map<String, String> labels) {
    Matcher m = SAMPLE.matcher(scrape);
    while (m.find()) {
      if (!m.group(1).equals(name)) {
        continue;
      }
      Map<String, String> actual = new HashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          actual.put(l.group(1), l.group(2));
        }
      }
      if (actual.entrySet().containsAll(labels.entrySet())) {
        return Double.valueOf(m.group(3));
      }
    }
    return null;
  }

  private static Map<String, String> phase(String ns, String phase) {
    return Map.of("resource_namespace", ns, "phase", phase);
  }

  // ------------------------------------------------------------------ FineTuneJobs

  /** Drives a job through dataset validation to a running trainer pod. */
  private void running(String name) {
    Job trainer = toTrainer(name);
    jobStatus(trainer, 1, null, null);
    pod(trainer, "t", Pods.running(), "Running");
    awaitPhase(name, Phase.Running);
  }

  /** Drives a job to a trainer that ran past its deadline. */
  private void failed(String name) {
    Job trainer = toTrainer(name);
    jobStatus(trainer, 0, "Failed", "DeadlineExceeded");
    awaitPhase(name, Phase.Failed);
  }

  private Job toTrainer(String name) {
    client.resource(FineTuneJobs.lora(ML, name).build()).create();
    Job validation = awaitJob(name + "-validate");
    DatasetReport report = new DatasetReport(true, "chat", 90, 10, 5000, 0, 0, List.of());
    pod(
        validation,
        "v",
        Pods.terminated(0, "Completed", Contract.writeBounded(report)),
        "Succeeded");
    jobStatus(validation, 0, "Complete", null);
    return awaitJob(name + "-trainer");
  }

  private void progress(String name) {
    TrainerProgress p = TrainerProgresses.training(Map.of(), List.of());
    client
        .configMaps()
        .inNamespace(ML)
        .withName(Contract.progressConfigMapName(name))
        .edit(
            cm -> {
              cm.setData(Map.of(Contract.PROGRESS_KEY, Contract.write(p)));
              return cm;
            });
  }

  private Job awaitJob(String name) {
    return await(name)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> client.batch().v1().jobs().inNamespace(ML).withName(name).get(), j -> j != null);
  }

  private void awaitPhase(String name, Phase phase) {
    await(name + " " + phase)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> client.resources(FineTuneJob.class).inNamespace(ML).withName(name).get(),
            j -> j != null && j.getStatus() != null && j.getStatus().phase == phase);
  }

  /** The job controller's view: a pod of {@code job} in the given state. */
  private void pod(Job job, String suffix, ContainerStatusBuilder container, String phase) {
    client
        .resource(
            Pods.ofJob(
                job,
                job.getMetadata().getName() + "-" + suffix,
                phase,
                container.withName("trainer").build()))
        .create();
  }

  private void jobStatus(Job job, Integer active, String conditionType, String reason) {
    Jobs.setStatus(client, job, active, null, conditionType, reason);
  }

  // ------------------------------------------------------------------ serving

  private static AdapterDeployment adapterDeployment(String name, String... adapters) {
    AdapterDeployment ad = new AdapterDeployment();
    ad.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withNamespace(SERVING)
            .withName(name)
            .build());
    AdapterDeploymentSpec spec = new AdapterDeploymentSpec();
    spec.baseModel = new AdapterDeploymentSpec.ServedModel();
    spec.baseModel.uri = "pvc://models/tiny-llama";
    spec.resources = new ResourcesSpec();
    spec.resources.gpus = 0;
    spec.replicas = 1;
    for (String adapter : adapters) {
      AdapterEntry e = new AdapterEntry();
      e.name = adapter;
      e.source = new AdapterSource();
      e.source.path = "pvc://kubetune-artifacts/adapters/" + adapter;
      spec.adapters.add(e);
    }
    ad.setSpec(spec);
    return ad;
  }

  /** A valid PEFT LoRA adapter folder (rank 8) on the artifact store. */
  private void writeAdapter(String folder, String seed) {
    PeftAdapters.write(artifacts, folder, 8, seed, Map.of());
  }
}
