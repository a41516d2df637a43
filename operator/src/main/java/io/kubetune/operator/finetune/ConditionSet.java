package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a condition list from the previous one so that {@code lastTransitionTime} moves only when
 * a condition's status moves.
 */
final class ConditionSet {
  private final Map<String, Condition> previous = new LinkedHashMap<>();
  private final Map<String, Condition> next = new LinkedHashMap<>();
  private final long generation;
  private final String now;

  ConditionSet(List<Condition> previous, long generation, Instant now) {
    if (previous != null) {
      previous.forEach(c -> this.previous.put(c.getType(), c));
    }
    this.generation = generation;
    this.now = now.toString();
  }

  ConditionSet set(String type, String status, String reason, String message) {
    Condition old = previous.get(type);
    String since =
        old != null && status.equals(old.getStatus()) && old.getLastTransitionTime() != null
            ? old.getLastTransitionTime()
            : now;
    next.put(
        type,
        new Condition(since, message == null ? "" : message, generation, reason, status, type));
    return this;
  }

  /** The new conditions, in the order they were set. */
  List<Condition> build() {
    return new ArrayList<>(next.values());
  }

  /** Whether {@code type} changed status compared with the previous list. */
  static boolean transitioned(List<Condition> before, Condition after) {
    if (before == null) {
      return true;
    }
    return before.stream()
        .filter(c -> c.getType().equals(after.getType()))
        .findFirst()
        .map(c -> !c.getStatus().equals(after.getStatus()))
        .orElse(true);
  }
}
