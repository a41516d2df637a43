package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard only queries metrics the operator really exports: the operator process runs
 * on a mock API server, reconciles (once successfully, once failing), and every metric name in the
 * dashboard's queries must appear on its /metrics.
 */
@EnableKubernetesMockClient(crud = true)
class ObservabilityMockServerTest {

  static KubernetesClient client;

  static final Path DASHBOARD =
      Charts.CHART.resolve("dashboards").resolve("kubetune-operator.json");

  // Metric families the operator exports: JOSDK's, and Micrometer's JVM/process/system binders.
  // kubetune_* series need FineTuneJobs, adapters and model-server calls to exist:
  // OperatorMetricsMockServerTest checks the dashboard's kubetune_* names after such a scenario.
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:operator_sdk|jvm|process|system)_[a-z0-9_]+)\\b");
  private static final Pattern NAME_REGEX = Pattern.compile("__name__=~\"([^\"]+)\"");

  @Test
  void everyDashboardQueryUsesAnExportedMetric() throws Exception {
    List<String> queries = queries(dashboard());
    assertTrue(queries.size() >= 10, "dashboard queries: " + queries.size());
    Set<String> exported = MetricsScrape.metricNames(client);

    Set<String> missing = new TreeSet<>();
    for (String query : queries) {
      Matcher names = METRIC.matcher(query.replaceAll(NAME_REGEX.pattern(), ""));
      while (names.find()) {
        if (!exported.contains(names.group(1))) {
          missing.add(names.group(1));
        }
      }
      Matcher regexes = NAME_REGEX.matcher(query);
      while (regexes.find()) {
        Pattern regex = Pattern.compile(regexes.group(1));
        if (exported.stream().noneMatch(n -> regex.matcher(n).matches())) {
          missing.add(regexes.group(1));
        }
      }
    }
    assertEquals(Set.of(), missing, "dashboard queries metrics the operator does not export");
  }

  @Test
  void dashboardIsWellFormed() throws IOException {
    JsonNode dashboard = dashboard();
    assertEquals("kubetune-operator", dashboard.get("uid").asText());
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : dashboard.get("panels")) {
      assertTrue(ids.add(panel.get("id").asInt()), "duplicate panel id " + panel.get("id"));
      for (JsonNode target : panel.path("targets")) {
        String expr = target.get("expr").asText();
        assertEquals(count(expr, '('), count(expr, ')'), "unbalanced parentheses: " + expr);
        assertEquals(count(expr, '{'), count(expr, '}'), "unbalanced braces: " + expr);
        assertTrue(expr.contains("$namespace"), "query ignores the namespace variable: " + expr);
      }
    }
  }

  @Test
  void chartShipsTheDashboardForTheGrafanaSidecar() throws IOException {
    List<HasMetadata> objects =
        Charts.objects(
            Map.of(
                "grafana.dashboards.enabled", true, "grafana.dashboards.namespace", "monitoring"));
    ConfigMap map =
        Charts.ofType(objects, ConfigMap.class).stream()
            .filter(c -> c.getMetadata().getName().endsWith("-dashboard"))
            .findFirst()
            .orElseThrow();
    assertEquals("1", map.getMetadata().getLabels().get("grafana_dashboard"));
    assertEquals("monitoring", map.getMetadata().getNamespace());
    assertEquals(
        dashboard(), new ObjectMapper().readTree(map.getData().get("kubetune-operator.json")));
    assertFalse(
        Charts.ofType(Charts.objects(Map.of()), ConfigMap.class).stream()
            .anyMatch(c -> c.getMetadata().getName().endsWith("-dashboard")),
        "dashboard ConfigMap rendered by default");
  }

  static JsonNode dashboard() throws IOException {
    return new ObjectMapper().readTree(Files.readString(DASHBOARD));
  }

  static List<String> queries(JsonNode dashboard) {
    List<String> queries = new ArrayList<>();
    for (JsonNode panel : dashboard.get("panels")) {
      panel.path("targets").forEach(t -> queries.add(t.get("expr").asText()));
    }
    dashboard
        .path("templating")
        .path("list")
        .forEach(v -> queries.add(v.path("definition").asText("")));
    return queries;
  }

  private static long count(String text, char c) {
    return text.chars().filter(x -> x == c).count();
  }
}
