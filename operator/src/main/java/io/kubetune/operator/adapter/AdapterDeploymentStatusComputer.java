package io.kubetune.operator.adapter;

import io.kubetune.operator.adapter.AdapterDeploymentValidator.Problem;
import io.kubetune.operator.adapter.AdapterSources.Blocked;
import io.kubetune.operator.adapter.AdapterSources.Ready;
import io.kubetune.operator.adapter.AdapterSources.Resolved;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.Reasons;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.AdapterSynchronizer.AdapterResult;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Computes an AdapterDeployment's status from what the reconciler observed; a pure function, so
 * status is decided in one place and unit-testable.
 */
final class AdapterDeploymentStatusComputer {

  /** Reasons of AdapterDeployment conditions and adapter phases set here. */
  static final class StatusReasons {
    static final String STAGING = "Staging";
    static final String NO_READY_REPLICAS = "NoReadyReplicas";
    static final String BASE_MODEL_LOADING = "BaseModelLoading";
    static final String BASE_MODEL_LOADED = "BaseModelLoaded";
    static final String ALL_LOADED = "AllAdaptersLoaded";
    static final String ADAPTERS_LOADING = "AdaptersLoading";
    static final String REPLICAS_UNAVAILABLE = "ReplicasUnavailable";
    static final String ADAPTER_FAILED = "AdapterFailed";
    static final String SERVING = "Serving";
    static final String NOT_SERVING = "NotServing";
    static final String PROGRESSING = "Progressing";
    static final String SCALED_TO_ZERO = "ScaledToZero";

    private StatusReasons() {}
  }

  /**
   * What the reconciler saw.
   *
   * @param ad the resource (its current status is the previous status)
   * @param problems spec problems
   * @param replicas serving pods that exist (not terminating)
   * @param readyPods ready serving pods with an endpoint, in the order handed to the synchronizer
   * @param resolved enabled adapters after source resolution and checks
   * @param outcome the latest finished sync, or null
   * @param url the inference Service URL
   * @param now the time
   */
  record Observed(
      AdapterDeployment ad,
      List<Problem> problems,
      int replicas,
      List<PodEndpoint> readyPods,
      List<Resolved> resolved,
      SyncOutcome outcome,
      String url,
      Instant now) {}

  private AdapterDeploymentStatusComputer() {}

  static AdapterDeploymentStatus compute(Observed o) {
    AdapterDeploymentStatus before = o.ad().getStatus();
    AdapterDeploymentStatus s = new AdapterDeploymentStatus();
    long generation =
        o.ad().getMetadata().getGeneration() == null ? 0 : o.ad().getMetadata().getGeneration();
    s.observedGeneration = generation;
    s.replicas = o.replicas();
    s.readyReplicas = o.readyPods().size();
    s.url = o.url();
    int wantedReplicas =
        o.ad().getSpec() == null || o.ad().getSpec().replicas == null
            ? 1
            : o.ad().getSpec().replicas;

    List<AdapterState> adapters = new ArrayList<>();
    for (Resolved r : o.resolved()) {
      AdapterState previous = previous(before, r.name());
      adapters.add(adapter(o, r, previous));
    }
    s.adapters = adapters;
    long loaded = adapters.stream().filter(a -> a.phase == AdapterPhase.Loaded).count();
    s.loadedAdapters = loaded + "/" + adapters.size();

    // Conditions.
    AdapterConditionSet c =
        new AdapterConditionSet(before == null ? null : before.conditions, generation, o.now());
    List<Problem> blocking = o.problems().stream().filter(Problem::blocksServing).toList();
    String problemText = o.problems().stream().map(Problem::toString).collect(joining());

    int ready = o.readyPods().size();
    Set<String> readyNames =
        o.readyPods().stream().map(PodEndpoint::name).collect(Collectors.toSet());
    Map<String, String> notHealthy =
        o.outcome() == null ? Map.of() : o.outcome().result().baseModelNotReady();
    String loadingPod =
        notHealthy.keySet().stream().filter(readyNames::contains).sorted().findFirst().orElse(null);
    boolean synced =
        o.outcome() != null
            && o.outcome().request().endpoints().stream()
                .map(PodEndpoint::name)
                .collect(Collectors.toSet())
                .containsAll(readyNames);
    boolean baseModelReady = ready > 0 && loadingPod == null && synced;
    if (ready == 0) {
      c.set(
          Conditions.BASE_MODEL_READY,
          false,
          StatusReasons.NO_READY_REPLICAS,
          wantedReplicas == 0
              ? "spec.replicas is 0"
              : "no serving pod is ready yet (0/"
                  + wantedReplicas
                  + "); pods are pending or still starting");
    } else if (loadingPod != null) {
      c.set(
          Conditions.BASE_MODEL_READY,
          false,
          StatusReasons.BASE_MODEL_LOADING,
          loadingPod + ": " + notHealthy.get(loadingPod));
    } else if (!synced) {
      c.set(
          Conditions.BASE_MODEL_READY,
          false,
          Reasons.PENDING,
          "checking /ping on " + ready + " ready pod(s)");
    } else {
      c.set(
          Conditions.BASE_MODEL_READY,
          true,
          StatusReasons.BASE_MODEL_LOADED,
          "base model healthy on " + ready + " ready pod(s)");
    }

    AdapterState firstFailed =
        adapters.stream().filter(a -> a.phase == AdapterPhase.Failed).findFirst().orElse(null);
    AdapterState firstNotLoaded =
        adapters.stream().filter(a -> a.phase != AdapterPhase.Loaded).findFirst().orElse(null);
    boolean adaptersReady = firstNotLoaded == null && ready > 0;
    if (adaptersReady) {
      c.set(
          Conditions.ADAPTERS_READY,
          true,
          StatusReasons.ALL_LOADED,
          s.loadedAdapters + " adapters loaded on every ready pod");
    } else if (firstFailed != null) {
      c.set(
          Conditions.ADAPTERS_READY,
          false,
          firstFailed.reason,
          s.loadedAdapters + " loaded; " + firstFailed.name + ": " + firstFailed.message);
    } else if (firstNotLoaded != null) {
      c.set(
          Conditions.ADAPTERS_READY,
          false,
          firstNotLoaded.reason,
          s.loadedAdapters + " loaded; " + firstNotLoaded.name + ": " + firstNotLoaded.message);
    } else {
      c.set(
          Conditions.ADAPTERS_READY,
          false,
          StatusReasons.NO_READY_REPLICAS,
          "no ready serving pod to load adapters onto");
    }

    boolean serving = baseModelReady;
    boolean missingReplicas = ready < wantedReplicas;
    if (serving && (missingReplicas || firstFailed != null)) {
      c.set(
          Conditions.DEGRADED,
          true,
          missingReplicas ? StatusReasons.REPLICAS_UNAVAILABLE : StatusReasons.ADAPTER_FAILED,
          missingReplicas
              ? ready + "/" + wantedReplicas + " serving pods ready"
              : "adapter " + firstFailed.name + " is not served: " + firstFailed.message);
    } else {
      c.set(
          Conditions.DEGRADED,
          false,
          serving ? StatusReasons.SERVING : StatusReasons.NOT_SERVING,
          serving ? "serving with every replica and adapter" : "not serving yet");
    }

    // A failure needs the user when the spec is wrong or an adapter failed for a reason that
    // does not clear by itself.
    String stalledReason = null;
    String stalledMessage = null;
    if (!o.problems().isEmpty()) {
      stalledReason = Reasons.SPEC_INVALID;
      stalledMessage =
          problemText
              + (blocking.isEmpty()
                  ? ""
                  : "; the serving Deployment is left as it was until the spec is fixed");
    } else {
      for (int i = 0; i < adapters.size(); i++) {
        AdapterState a = adapters.get(i);
        if (a.phase == AdapterPhase.Failed && needsUser(o.resolved().get(i), o.outcome())) {
          stalledReason = a.reason;
          stalledMessage = "adapter " + a.name + ": " + a.message;
          break;
        }
      }
    }
    boolean stalled = stalledReason != null;
    c.set(
        Conditions.STALLED,
        stalled,
        stalled ? stalledReason : StatusReasons.PROGRESSING,
        stalled ? stalledMessage : "no user action needed");

    boolean readyAll = blocking.isEmpty() && baseModelReady && adaptersReady && !missingReplicas;
    if (readyAll) {
      c.set(
          Conditions.READY,
          true,
          StatusReasons.SERVING,
          ready + " pod(s) serving " + s.loadedAdapters + " adapters at " + o.url());
    } else {
      String reason =
          !blocking.isEmpty()
              ? Reasons.SPEC_INVALID
              : wantedReplicas == 0
                  ? StatusReasons.SCALED_TO_ZERO
                  : ready == 0 || !baseModelReady
                      ? conditionReason(c, Conditions.BASE_MODEL_READY)
                      : !adaptersReady
                          ? conditionReason(c, Conditions.ADAPTERS_READY)
                          : StatusReasons.REPLICAS_UNAVAILABLE;
      String message =
          !blocking.isEmpty()
              ? problemText
              : ready + "/" + wantedReplicas + " pods ready, " + s.loadedAdapters + " adapters";
      c.set(Conditions.READY, false, reason, message);
    }
    boolean reconciling = !readyAll && !stalled;
    c.set(
        Conditions.RECONCILING,
        reconciling,
        reconciling ? StatusReasons.PROGRESSING : readyAll ? StatusReasons.SERVING : stalledReason,
        reconciling ? "working towards " + wantedReplicas + " pod(s) with every adapter" : "");
    s.conditions = c.build();
    return s;
  }

  private static String conditionReason(AdapterConditionSet c, String type) {
    return c.build().stream()
        .filter(x -> x.getType().equals(type))
        .findFirst()
        .map(io.fabric8.kubernetes.api.model.Condition::getReason)
        .orElse(Reasons.PENDING);
  }

  private static java.util.stream.Collector<CharSequence, ?, String> joining() {
    return Collectors.joining("; ");
  }

  private static boolean needsUser(Resolved r, SyncOutcome outcome) {
    if (r instanceof Blocked b) {
      return b.failed();
    }
    AdapterResult result = result(outcome, ((Ready) r).desired());
    return result != null
        && result.pods().stream()
            .anyMatch(p -> p.phase() == AdapterSynchronizer.Phase.FAILED && !p.transientFailure());
  }

  private static AdapterState previous(AdapterDeploymentStatus before, String name) {
    if (before == null || before.adapters == null) {
      return null;
    }
    return before.adapters.stream().filter(a -> name.equals(a.name)).findFirst().orElse(null);
  }

  /** The sync result for exactly this desired version, or null when it was not synced yet. */
  private static AdapterResult result(
      SyncOutcome outcome, AdapterSynchronizer.DesiredAdapter desired) {
    if (outcome == null || !outcome.request().desired().contains(desired)) {
      return null;
    }
    return outcome.result().adapters().stream()
        .filter(a -> a.name().equals(desired.name()))
        .findFirst()
        .orElse(null);
  }

  private static AdapterState adapter(Observed o, Resolved r, AdapterState previous) {
    AdapterState a = new AdapterState();
    a.name = r.name();
    a.pinned = r.pin();
    a.desiredReplicas = o.readyPods().size();
    a.loadedReplicas = 0;
    if (previous != null) {
      a.lastLoadTime = previous.lastLoadTime;
      a.loadSeconds = previous.loadSeconds;
    }
    if (r instanceof Blocked b) {
      a.phase = b.failed() ? AdapterPhase.Failed : AdapterPhase.Pending;
      a.reason = b.reason();
      a.message = b.message();
      return a;
    }
    AdapterSynchronizer.DesiredAdapter d = ((Ready) r).desired();
    AdapterResult result = result(o.outcome(), d);
    if (result == null
        && previous != null
        && !o.readyPods().isEmpty()
        && (previous.phase == AdapterPhase.Failed
            || (previous.phase == AdapterPhase.Loaded
                && previous.loadedReplicas != null
                && previous.loadedReplicas >= o.readyPods().size()))
        && previous.digest != null
        && previous.digest.equals(d.digest())) {
      // No sync result for this version in this process yet (the operator restarted, or the
      // synchronizer has not run since the spec changed): keep what the last result said instead
      // of flapping to Staging, which would turn Argo CD Progressing on every operator restart.
      // The next sync result (at once after a restart) replaces it.
      a.phase = previous.phase;
      a.reason = previous.reason;
      a.message = previous.message;
      a.servedName = previous.servedName;
      a.digest = previous.digest;
      a.loadedReplicas =
          previous.loadedReplicas == null
              ? 0
              : Math.min(previous.loadedReplicas, o.readyPods().size());
      return a;
    }
    if (result == null) {
      a.phase = o.readyPods().isEmpty() ? AdapterPhase.Pending : AdapterPhase.Staging;
      a.reason = o.readyPods().isEmpty() ? StatusReasons.NO_READY_REPLICAS : StatusReasons.STAGING;
      a.message =
          o.readyPods().isEmpty()
              ? "waiting for a ready serving pod"
              : "checked (" + d.digest() + "); registering on " + o.readyPods().size() + " pod(s)";
      if (previous != null) {
        // The old version keeps serving until the new one is everywhere.
        a.servedName = previous.servedName;
        a.digest = previous.digest;
      }
      return a;
    }
    // The result may predate a pod that just became ready (or one that went away): count only
    // the pods that are ready now, and never call an adapter Loaded before a new pod has it.
    Set<String> readyNames =
        o.readyPods().stream().map(PodEndpoint::name).collect(Collectors.toSet());
    int loadedNow =
        (int)
            result.pods().stream()
                .filter(p -> p.phase() == AdapterSynchronizer.Phase.LOADED)
                .filter(p -> readyNames.contains(p.pod()))
                .count();
    boolean behind = loadedNow < readyNames.size() || readyNames.isEmpty();
    a.loadedReplicas = loadedNow;
    a.desiredReplicas = readyNames.size();
    a.servedName = result.servedName();
    if (Objects.equals(result.servedName(), result.targetServedName())) {
      a.digest = d.digest();
    } else if (previous != null && Objects.equals(previous.servedName, result.servedName())) {
      a.digest = previous.digest;
    }
    a.reason = result.reason();
    a.message = AdapterSyncEventSource.stripRetryNote(result.message());
    if (result.phase() == AdapterSynchronizer.Phase.LOADED && behind) {
      if (readyNames.isEmpty()) {
        a.phase = AdapterPhase.Pending;
        a.reason = StatusReasons.NO_READY_REPLICAS;
        a.message = "waiting for a ready serving pod";
        return a;
      }
      a.phase = AdapterPhase.Staging;
      a.reason = StatusReasons.STAGING;
      a.message =
          "loaded on "
              + loadedNow
              + "/"
              + readyNames.size()
              + " ready pod(s); registering on the newly ready one(s)";
      return a;
    }
    switch (result.phase()) {
      case LOADED -> {
        a.phase = AdapterPhase.Loaded;
        boolean newlyLoaded =
            previous == null
                || previous.phase != AdapterPhase.Loaded
                || !Objects.equals(previous.servedName, a.servedName)
                || !Objects.equals(previous.digest, a.digest);
        if (newlyLoaded || a.lastLoadTime == null) {
          a.lastLoadTime = o.now().toString();
        }
        if (result.loadSeconds() != null) {
          a.loadSeconds = result.loadSeconds();
        }
        a.message =
            "loaded on " + loadedNow + "/" + readyNames.size() + " ready pod(s) as " + a.servedName;
      }
      case FAILED -> a.phase = AdapterPhase.Failed;
      case PENDING -> {
        boolean waiting =
            o.readyPods().isEmpty()
                || AdapterSynchronizer.BASE_MODEL_NOT_READY.equals(result.reason())
                || "NoReadyReplicas".equals(result.reason());
        a.phase = waiting ? AdapterPhase.Pending : AdapterPhase.Staging;
      }
      default -> throw new IllegalStateException("unknown phase " + result.phase());
    }
    return a;
  }
}
