package io.kubetune.operator.adapter;

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
final class AdapterConditionSet {
  private final Map<String, Condition> previous = new LinkedHashMap<>();
  private final Map<String, Condition> next = new LinkedHashMap<>();
  private final long generation;
  private final String now;

  AdapterConditionSet(List<Condition> previous, long generation, Instant now) {
    if (previous != null) {
      previous.forEach(c -> this.previous.put(c.getType(), c));
    }
    this.generation = generation;
    this.now = now.toString();
  }

  AdapterConditionSet set(String type, boolean status, String reason, String message) {
    String value = status ? "True" : "False";
    Condition old = previous.get(type);
    String since =
        old != null && value.equals(old.getStatus()) && old.getLastTransitionTime() != null
            ? old.getLastTransitionTime()
            : now;
    next.put(
        type,
        new Condition(since, message == null ? "" : message, generation, reason, value, type));
    return this;
  }

  List<Condition> build() {
    return new ArrayList<>(next.values());
  }
}
