package io.kubetune.operator.modelserver;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.AdapterDigest;
import io.kubetune.operator.modelserver.AdapterSynchronizer.DesiredAdapter;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.kubetune.operator.modelserver.AdapterSynchronizer.Settings;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Measures the adapter synchronizer against four fake pods: convergence of 100 adapters from empty
 * (time and management calls) and the time from adding one adapter to Loaded on every pod. Not a
 * test (its name keeps it out of the default surefire run); run with {@code mvn -B -ntp -o -pl
 * operator -am verify -Dtest=AdapterSyncBenchmark -Dsurefire.failIfNoSpecifiedTests=false}. The
 * fakes load instantly, so the figures are the synchronizer's own cost.
 */
class AdapterSyncBenchmark {

  private static final int ADAPTERS = 100;
  private static final int PODS = 4;
  private static final int SINGLE_ADDS = 50;

  @Test
  void measure() throws Exception {
    List<FakeDjlServing> fakes = new ArrayList<>();
    List<PodEndpoint> pods = new ArrayList<>();
    for (int i = 0; i < PODS; i++) {
      FakeDjlServing fake = FakeDjlServing.start().maxLoras(ADAPTERS + SINGLE_ADDS + 1);
      fakes.add(fake);
      pods.add(new PodEndpoint("pod-" + i, fake.uri(), fake.uri()));
    }
    Settings settings = Settings.defaults(FakeDjlServing.MODEL);
    try (AdapterSynchronizer sync =
        new AdapterSynchronizer(
            new DjlServingClient(Duration.ofSeconds(30)), settings, Clock.systemUTC())) {
      List<DesiredAdapter> desired = new ArrayList<>();
      for (int i = 0; i < ADAPTERS; i++) {
        desired.add(adapter("adapter-" + i));
      }
      long start = System.nanoTime();
      boolean converged = sync.sync(desired, pods).converged();
      double convergeMs = (System.nanoTime() - start) / 1e6;
      assertTrue(converged);
      int calls = fakes.stream().mapToInt(FakeDjlServing::managementCalls).sum();
      int probes = fakes.stream().mapToInt(f -> f.invocations.get()).sum();

      double[] addMs = new double[SINGLE_ADDS];
      for (int i = 0; i < SINGLE_ADDS; i++) {
        desired.add(adapter("extra-" + i));
        long t = System.nanoTime();
        assertTrue(sync.sync(desired, pods).converged());
        addMs[i] = (System.nanoTime() - t) / 1e6;
      }
      Arrays.sort(addMs);
      System.out.printf(
          "adapter-sync bench: %d adapters x %d pods converge from empty in %.0f ms with %d"
              + " management calls and %d confirming inferences; adding one adapter to Loaded on"
              + " all pods (with %d+ present): p50 %.1f ms, p99 %.1f ms%n",
          ADAPTERS,
          PODS,
          convergeMs,
          calls,
          probes,
          ADAPTERS,
          addMs[SINGLE_ADDS / 2],
          addMs[(int) Math.ceil(SINGLE_ADDS * 0.99) - 1]);
    } finally {
      fakes.forEach(FakeDjlServing::close);
    }
  }

  private static DesiredAdapter adapter(String name) {
    return new DesiredAdapter(
        name,
        "/artifacts/adapters/" + name,
        false,
        AdapterDigest.of(name.getBytes(StandardCharsets.UTF_8), new byte[] {1}));
  }
}
