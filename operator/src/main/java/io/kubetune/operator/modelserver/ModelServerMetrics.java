package io.kubetune.operator.modelserver;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Objects;

/**
 * Metrics of the talk with DJL Serving: the latency of every management API and inference call
 * ({@link DjlServingClient} records it) and the adapter sync failures ({@link AdapterSynchronizer}
 * counts them). Label values come from fixed sets (operations, status classes, reasons), never from
 * pod or adapter names.
 */
public final class ModelServerMetrics {

  /** Timer, exported as histogram {@code kubetune_modelserver_request_duration_seconds}. */
  public static final String REQUEST_DURATION = "kubetune.modelserver.request.duration";

  /** Counter, exported as {@code kubetune_adapter_sync_errors_total}. */
  public static final String SYNC_ERRORS = "kubetune.adapter.sync.errors";

  /** Records nothing: for clients built outside the operator process (tests, benchmarks). */
  public static final ModelServerMetrics NONE =
      new ModelServerMetrics(new CompositeMeterRegistry());

  // From a ping on the pod network to a preloading registration of a large adapter.
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60)
  };

  private final MeterRegistry registry;

  /** Records into {@code registry}. */
  public ModelServerMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /**
   * Records one call.
   *
   * @param operation register, unregister, list, get, update_pin, ping or confirm_inference
   * @param outcome the HTTP status class ({@code 2xx}, {@code 4xx}, {@code 5xx}) or, without an
   *     answer, {@code timeout}, {@code unreachable} or {@code interrupted}
   * @param nanos how long the call took
   */
  void recordCall(String operation, String outcome, long nanos) {
    Timer.builder(REQUEST_DURATION)
        .description("DJL Serving management API and inference calls made by the operator")
        .tag("operation", operation)
        .tag("outcome", outcome)
        .serviceLevelObjectives(BUCKETS)
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** Counts one failed attempt to bring an adapter (or a pod's listing) in line, by reason. */
  void syncError(String reason) {
    Counter.builder(SYNC_ERRORS)
        .description("Failed adapter sync attempts (list, register, confirm, unregister) by reason")
        .tag("reason", reason == null ? "Unknown" : reason)
        .register(registry)
        .increment();
  }
}
