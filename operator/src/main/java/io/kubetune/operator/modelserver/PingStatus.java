package io.kubetune.operator.modelserver;

import java.util.Locale;
import java.util.Map;

/**
 * The parsed answer of {@code GET /ping}. DJL Serving answers 200 even while a model is PENDING or
 * Unhealthy, so health is read from the per-model statuses, not from the HTTP status.
 *
 * @param httpStatus the HTTP status of the answer
 * @param models status per model name, e.g. {@code model -> Healthy}
 */
public record PingStatus(int httpStatus, Map<String, String> models) {

  public PingStatus {
    models = Map.copyOf(models);
  }

  /** Returns true when {@code model} is listed and reports Healthy. */
  public boolean isHealthy(String model) {
    String status = models.get(model);
    return status != null && status.toLowerCase(Locale.ROOT).equals("healthy");
  }

  /** Returns true when at least one model is listed and every listed model is Healthy. */
  public boolean allHealthy() {
    return !models.isEmpty() && models.keySet().stream().allMatch(this::isHealthy);
  }
}
