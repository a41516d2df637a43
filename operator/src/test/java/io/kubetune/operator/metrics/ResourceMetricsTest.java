package io.kubetune.operator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The cache-derived gauges as a scrape shows them. */
class ResourceMetricsTest {

  private final List<FineTuneJob> jobs = new ArrayList<>();
  private final List<AdapterDeployment> deployments = new ArrayList<>();
  private final ResourceMetrics metrics =
      new ResourceMetrics(() -> jobs.stream(), () -> deployments.stream());

  @Test
  void everyPhaseOfANamespaceWithJobsIsExportedAndUnreconciledJobsArePending() throws IOException {
    jobs.add(job("a", "new", null));
    jobs.add(job("a", "run", Phase.Running));
    String text = scrape();
    assertTrue(
        text.contains("kubetune_finetunejobs{phase=\"Pending\",resource_namespace=\"a\"} 1.0"),
        text);
    assertTrue(
        text.contains("kubetune_finetunejobs{phase=\"Running\",resource_namespace=\"a\"} 1.0"),
        text);
    assertTrue(
        text.contains("kubetune_finetunejobs{phase=\"Suspended\",resource_namespace=\"a\"} 0.0"),
        text);
    assertEquals(7, count(text, "kubetune_finetunejobs{"), text);

    jobs.clear();
    assertEquals(0, count(scrape(), "kubetune_finetunejobs{"), "deleted jobs leave no series");
  }

  @Test
  void trainerGaugesOnlyForRunningJobs() throws IOException {
    FineTuneJob running = job("a", "run", Phase.Running);
    running.getStatus().metrics = new FineTuneJobStatus.Metrics();
    running.getStatus().metrics.trainLoss = 0.5;
    FineTuneJob done = job("a", "done", Phase.Succeeded);
    done.getStatus().metrics = new FineTuneJobStatus.Metrics();
    done.getStatus().metrics.trainLoss = 0.4;
    jobs.addAll(List.of(running, done));
    String text = scrape();
    assertTrue(
        text.contains(
            "kubetune_finetunejob_train_loss{finetunejob=\"run\",resource_namespace=\"a\"} 0.5"),
        text);
    assertEquals(1, count(text, "kubetune_finetunejob_train_loss{"), text);
    assertEquals(0, count(text, "kubetune_finetunejob_valid_loss{"), "no value, no series");
  }

  @Test
  void adaptersByPhaseAndReplicas() throws IOException {
    AdapterDeployment ad = new AdapterDeployment();
    ad.setMetadata(new ObjectMetaBuilder().withNamespace("s").withName("chat").build());
    ad.setStatus(new AdapterDeploymentStatus());
    ad.getStatus().adapters = List.of(adapter("a", AdapterPhase.Loaded, 2), adapter("b", null, 0));
    deployments.add(ad);
    String text = scrape();
    String labels = "adapterdeployment=\"chat\",";
    assertTrue(
        text.contains(
            "kubetune_adapterdeployment_adapters{"
                + labels
                + "phase=\"Loaded\",resource_namespace=\"s\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "kubetune_adapterdeployment_adapters{"
                + labels
                + "phase=\"Pending\",resource_namespace=\"s\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "kubetune_adapter_loaded_replicas{adapter=\"a\","
                + labels
                + "resource_namespace=\"s\"} 2.0"),
        text);
  }

  @Test
  void aCacheThatIsNotThereYetExportsNothing() throws IOException {
    ResourceMetrics early =
        new ResourceMetrics(
            () -> {
              throw new IllegalStateException("informer not started");
            },
            Stream::empty);
    assertEquals(0, count(write(early.collect()), "kubetune_finetunejobs{"));
  }

  private static FineTuneJob job(String ns, String name, Phase phase) {
    FineTuneJob job = new FineTuneJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    if (phase != null) {
      job.setStatus(new FineTuneJobStatus());
      job.getStatus().phase = phase;
    }
    return job;
  }

  private static AdapterState adapter(String name, AdapterPhase phase, int loaded) {
    AdapterState a = new AdapterState();
    a.name = name;
    a.phase = phase;
    a.loadedReplicas = loaded;
    a.desiredReplicas = 2;
    return a;
  }

  private String scrape() throws IOException {
    return write(metrics.collect());
  }

  private static String write(MetricSnapshots snapshots) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, snapshots);
    return out.toString(StandardCharsets.UTF_8);
  }

  private static int count(String text, String prefix) {
    return (int) text.lines().filter(l -> l.startsWith(prefix)).count();
  }
}
