package io.kubetune.operator.chart;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.kubetune.operator.runtime.OperatorRuntime;
import io.kubetune.operator.runtime.OperatorSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the operator process on a mock API server and returns what /metrics exports. */
final class MetricsScrape {

  /** Stands in for a kubetune reconciler: succeeds, or fails when a ConfigMap asks it to. */
  @ControllerConfiguration(name = "finetunejob")
  static final class StandInReconciler implements Reconciler<ConfigMap> {
    @Override
    public UpdateControl<ConfigMap> reconcile(ConfigMap resource, Context<ConfigMap> context) {
      if (resource.getData() != null && resource.getData().containsKey("fail")) {
        throw new IllegalStateException("asked to fail");
      }
      return UpdateControl.noUpdate();
    }
  }

  private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

  private MetricsScrape() {}

  /**
   * Starts the operator with a stand-in reconciler, has it reconcile one ConfigMap successfully and
   * fail on another, and returns the metric names on /metrics.
   */
  static Set<String> metricNames(KubernetesClient client) throws InterruptedException {
    return names(scrape(client));
  }

  /** Returns the metric names of a Prometheus text exposition. */
  static Set<String> names(String scrape) {
    Set<String> names = new TreeSet<>();
    Matcher m = SAMPLE.matcher(scrape);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** Like {@link #metricNames} but returns the whole exposition text. */
  static String scrape(KubernetesClient client) throws InterruptedException {
    OperatorSettings settings =
        OperatorSettings.fromEnv(
            Map.of("KUBETUNE_WATCH_NAMESPACES", "metrics", "KUBETUNE_HTTP_PORT", "0"));
    try (OperatorRuntime runtime =
        OperatorRuntime.start(settings, client, List.of(new StandInReconciler()))) {
      create(client, "ok", Map.of("a", "b"));
      create(client, "broken", Map.of("fail", "yes"));
      Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
      String scrape = runtime.registry().scrape();
      while (!(scrape.contains("reconciliations_failed")
              && scrape.contains("reconciliations_success"))
          && Instant.now().isBefore(deadline)) {
        Thread.sleep(200);
        scrape = runtime.registry().scrape();
      }
      return scrape;
    }
  }

  private static void create(KubernetesClient client, String name, Map<String, String> data) {
    client
        .configMaps()
        .inNamespace("metrics")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace("metrics")
                .endMetadata()
                .withData(data)
                .build())
        .create();
  }
}
