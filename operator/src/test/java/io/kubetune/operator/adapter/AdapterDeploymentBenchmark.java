package io.kubetune.operator.adapter;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterSource;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.modelserver.FakeDjlServing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures the whole AdapterDeployment path (watch, reconcile, adapter checks, sync on its
 * executor, status write) on the mock server with 4 fake DJL Serving pods: converging 100 adapters
 * from empty (time and management calls), then the time from adding one adapter to the spec until
 * status reports it Loaded on all 4 pods. The fakes load instantly, so the figures exclude the
 * model server's own load time. Not a test (its name keeps it out of the default run); the command
 * is in bench/adapter-sync/README.md.
 */
@EnableKubernetesMockClient(crud = true)
class AdapterDeploymentBenchmark {
  private static final String NS = "bench";
  private static final int ADAPTERS = 100;
  private static final int PODS = 4;
  private static final int SINGLE_ADDS = 30;

  KubernetesClient client;
  @TempDir Path artifacts;

  @Test
  void measure() {
    // The mock server logs every request through java.util.logging; on a loaded machine that
    // logging, not the operator, would dominate the figures.
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
    try (ServingHarness h = new ServingHarness(client, artifacts)) {
      AdapterDeployments builder = AdapterDeployments.of(NS, "bench").replicas(PODS);
      for (int i = 0; i < ADAPTERS; i++) {
        h.writeAdapter("adapter-" + i, 8, "adapter-" + i);
        builder.path("adapter-" + i, "adapter-" + i);
      }
      for (int i = 0; i < SINGLE_ADDS; i++) {
        h.writeAdapter("extra-" + i, 8, "extra-" + i);
      }
      AdapterDeployment ad = builder.build();
      ad.getSpec().lora.maxLoras = 256;
      h.create(ad);
      h.awaitDeployment(NS, "bench");

      long start = System.nanoTime();
      for (int i = 0; i < PODS; i++) {
        h.readyPod(NS, "bench", "bench-" + i, f -> f.maxLoras(ADAPTERS + SINGLE_ADDS + 1));
      }
      awaitLoaded(h, ADAPTERS + "/" + ADAPTERS);
      double convergeMs = (System.nanoTime() - start) / 1e6;
      int registers = h.fakes.values().stream().mapToInt(f -> f.registers.get()).sum();
      int calls = h.fakes.values().stream().mapToInt(FakeDjlServing::managementCalls).sum();
      assertEquals(ADAPTERS * PODS, registers, "each adapter registered once per pod");

      double[] addMs = new double[SINGLE_ADDS];
      for (int i = 0; i < SINGLE_ADDS; i++) {
        String name = "extra-" + i;
        long t = System.nanoTime();
        h.edit(
            NS,
            "bench",
            x -> {
              AdapterEntry e = new AdapterEntry();
              e.name = name;
              e.source = new AdapterSource();
              e.source.path = "pvc://kubetune-artifacts/adapters/" + name;
              x.getSpec().adapters.add(e);
            });
        await()
            .atMost(ServingHarness.TIMEOUT)
            .pollInterval(Duration.ofMillis(10))
            .until(
                () -> {
                  AdapterDeploymentStatus s = h.get(NS, "bench").getStatus();
                  AdapterState a = s == null ? null : ServingHarness.adapter(s, name);
                  return a != null && a.phase == AdapterPhase.Loaded && a.loadedReplicas == PODS;
                });
        addMs[i] = (System.nanoTime() - t) / 1e6;
      }
      Arrays.sort(addMs);
      System.out.printf(
          "adapterdeployment bench (operator on mock server): %d adapters x %d pods converge from"
              + " empty in %.0f ms with %d management calls (%d registrations, the rest listings);"
              + " adding one adapter until status shows it Loaded on all %d pods: p50 %.0f ms, p99"
              + " %.0f ms, max %.0f ms (n=%d)%n",
          ADAPTERS,
          PODS,
          convergeMs,
          calls,
          registers,
          PODS,
          addMs[SINGLE_ADDS / 2],
          addMs[(int) Math.ceil(SINGLE_ADDS * 0.99) - 1],
          addMs[SINGLE_ADDS - 1],
          SINGLE_ADDS);
    }
  }

  private static void awaitLoaded(ServingHarness h, String loaded) {
    await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              AdapterDeploymentStatus s = h.get(NS, "bench").getStatus();
              return s != null
                  && loaded.equals(s.loadedAdapters)
                  && s.adapters.stream().allMatch(a -> a.loadedReplicas == PODS);
            });
  }
}
