package io.kubetune.operator.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class OperatorRuntimeMockServerTest {

  static KubernetesClient client;
  static KubernetesMockServer server;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Records which ConfigMaps it saw: stands in for kubetune's reconcilers. */
  static final class RecordingReconciler implements Reconciler<ConfigMap> {
    final Set<String> seen = ConcurrentHashMap.newKeySet();

    @Override
    public UpdateControl<ConfigMap> reconcile(ConfigMap resource, Context<ConfigMap> context) {
      seen.add(resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName());
      return UpdateControl.noUpdate();
    }
  }

  @Test
  void servesProbesAndJosdkMetricsAndWatchesOnlyConfiguredNamespaces() throws Exception {
    createConfigMap("other", "ignored");
    RecordingReconciler reconciler = new RecordingReconciler();
    OperatorSettings settings =
        OperatorSettings.fromEnv(
            Map.of("KUBETUNE_WATCH_NAMESPACES", "watched", "KUBETUNE_HTTP_PORT", "0"));
    int port;
    try (OperatorRuntime runtime = OperatorRuntime.start(settings, client, List.of(reconciler))) {
      port = runtime.httpPort();
      createConfigMap("watched", "config");

      awaitTrue(() -> reconciler.seen.contains("watched/config"), "reconcile in watched namespace");
      assertFalse(reconciler.seen.contains("other/ignored"), "reconciled an unwatched namespace");

      awaitTrue(() -> get(port, "/healthz").statusCode() == 200, "/healthz 200");
      HttpResponse<String> ready = get(port, "/readyz");
      assertEquals(200, ready.statusCode(), ready.body());

      awaitTrue(
          () -> get(port, "/metrics").body().contains("operator_sdk_reconciliations_started"),
          "JOSDK reconciliation metrics on /metrics");
      HttpResponse<String> metrics = get(port, "/metrics");
      assertTrue(
          metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
          metrics.headers().toString());
      assertTrue(metrics.body().contains("jvm_memory_used_bytes"), "JVM metrics missing");

      assertEquals(405, send(port, "/healthz", "POST").statusCode());
    }
    assertThrows(ConnectException.class, () -> get(port, "/healthz"), "server still listening");
  }

  @Test
  void leaderElectionTakesTheConfiguredLease() throws Exception {
    // JOSDK checks the operator may use Leases before electing; the mock server answers with the
    // rules the chart's Role grants.
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            new SelfSubjectRulesReviewBuilder()
                .withNewStatus()
                .addNewResourceRule()
                .withApiGroups("coordination.k8s.io")
                .withResources("leases")
                .withVerbs("get", "create", "update")
                .endResourceRule()
                .withIncomplete(false)
                .endStatus()
                .build())
        .always();
    RecordingReconciler reconciler = new RecordingReconciler();
    OperatorSettings settings =
        OperatorSettings.fromEnv(
            Map.of(
                "KUBETUNE_LEADER_ELECTION", "true",
                "KUBETUNE_LEASE_NAME", "kubetune-test-lease",
                "KUBETUNE_LEASE_NAMESPACE", "kubetune-system",
                "POD_NAME", "operator-0",
                "KUBETUNE_HTTP_PORT", "0"));
    AtomicInteger lost = new AtomicInteger();
    try (OperatorRuntime runtime =
        OperatorRuntime.start(settings, client, List.of(reconciler), lost::incrementAndGet)) {
      var config = runtime.operator().getConfigurationService().getLeaderElectionConfiguration();
      assertTrue(config.isPresent(), "leader election not configured");
      assertEquals("kubetune-test-lease", config.get().getLeaseName());
      assertEquals("kubetune-system", config.get().getLeaseNamespace().orElseThrow());

      awaitTrue(
          () -> {
            Lease lease =
                client
                    .leases()
                    .inNamespace("kubetune-system")
                    .withName("kubetune-test-lease")
                    .get();
            return lease != null && "operator-0".equals(lease.getSpec().getHolderIdentity());
          },
          "Lease held by operator-0");
      createConfigMap("default", "after-leading");
      awaitTrue(
          () -> reconciler.seen.contains("default/after-leading"), "leader reconciles resources");
    }
    assertEquals(0, lost.get(), "a graceful stop must not count as losing leadership");
  }

  @Test
  void withoutReconcilersTheProcessStillServesProbesAndMetrics() throws Exception {
    OperatorSettings settings = OperatorSettings.fromEnv(Map.of("KUBETUNE_HTTP_PORT", "0"));
    try (OperatorRuntime runtime = OperatorRuntime.start(settings, client, List.of())) {
      HttpResponse<String> health = get(runtime.httpPort(), "/healthz");
      assertEquals(200, health.statusCode());
      assertTrue(health.body().contains("no reconcilers"), health.body());
      assertTrue(get(runtime.httpPort(), "/metrics").body().contains("process_uptime_seconds"));
    }
  }

  @Test
  void leaderElectionIsOffByDefault() {
    OperatorSettings settings = OperatorSettings.fromEnv(Map.of("KUBETUNE_HTTP_PORT", "0"));
    try (OperatorRuntime runtime =
        OperatorRuntime.start(settings, client, List.of(new RecordingReconciler()))) {
      assertTrue(
          runtime.operator().getConfigurationService().getLeaderElectionConfiguration().isEmpty());
    }
  }

  private static void createConfigMap(String namespace, String name) {
    client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .addToData("k", "v")
                .build())
        .create();
  }

  private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return send(port, path, "GET");
  }

  private HttpResponse<String> send(int port, String path, String method)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Waits for an eventual condition, bounded so a broken operator fails instead of hanging. */
  interface Check {
    boolean test() throws Exception;
  }

  private static void awaitTrue(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (check.test()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for: " + what);
  }
}
