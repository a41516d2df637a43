package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.fabric8.kubernetes.api.model.Condition;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.operator.adapter.AdapterSources.Ready;
import io.kubetune.operator.adapter.AdapterSources.Resolved;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterPhase;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.AdapterSynchronizer.AdapterResult;
import io.kubetune.operator.modelserver.AdapterSynchronizer.DesiredAdapter;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodAdapterResult;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.kubetune.operator.modelserver.AdapterSynchronizer.SyncResult;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdapterDeploymentStatusComputerTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final String URL = "http://ad.ns.svc:8080";
  private final PodEndpoint pod =
      new PodEndpoint("ad-0", URI.create("http://x"), URI.create("http://x"));
  private final DesiredAdapter a =
      new DesiredAdapter(
          "a",
          "/artifacts/adapters/a",
          false,
          AdapterDigest.of(
              "c".getBytes(StandardCharsets.UTF_8), "w".getBytes(StandardCharsets.UTF_8)));

  private SyncOutcome outcome(
      AdapterSynchronizer.Phase phase, String reason, boolean transientFailure) {
    PodAdapterResult p =
        new PodAdapterResult("ad-0", "a", "a", phase, reason, "msg", 1.5, transientFailure);
    AdapterResult r =
        new AdapterResult(
            "a",
            a.digest(),
            "a",
            "a",
            phase == AdapterSynchronizer.Phase.LOADED ? 1 : 0,
            1,
            phase,
            reason,
            "ad-0: msg (next attempt in 5s)",
            1.5,
            List.of(p));
    return new SyncOutcome(
        new AdapterSyncEventSource.Request(List.of(a), List.of(pod), List.of("ad-0/u/0")),
        new SyncResult(List.of(r), List.of(), Map.of()),
        T0);
  }

  private AdapterDeploymentStatus compute(AdapterDeployment ad, SyncOutcome outcome, Instant now) {
    List<Resolved> resolved = List.of(new Ready(a));
    return AdapterDeploymentStatusComputer.compute(
        new AdapterDeploymentStatusComputer.Observed(
            ad, List.of(), 1, List.of(pod), resolved, outcome, URL, now));
  }

  private static Condition condition(AdapterDeploymentStatus s, String type) {
    return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  @Test
  void transitionTimesMoveOnlyWhenAConditionsStatusMoves() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").path("a", "a").build();
    ad.getMetadata().setGeneration(3L);
    AdapterDeploymentStatus first =
        compute(ad, outcome(AdapterSynchronizer.Phase.PENDING, "AdapterNotReady", true), T0);
    assertEquals(AdapterPhase.Staging, first.adapters.get(0).phase);
    assertEquals("ad-0: msg", first.adapters.get(0).message, "no retry countdown in status");
    assertEquals("False", condition(first, Conditions.READY).getStatus());
    assertEquals(3L, condition(first, Conditions.READY).getObservedGeneration());
    ad.setStatus(first);

    // Same observation later: identical status, so nothing is written.
    AdapterDeploymentStatus same =
        compute(
            ad,
            outcome(AdapterSynchronizer.Phase.PENDING, "AdapterNotReady", true),
            T0.plusSeconds(30));
    assertEquals(first.conditions, same.conditions);
    ad.setStatus(same);

    // Loaded: Ready flips and gets a new time; BaseModelReady stays True with its old time.
    Instant t2 = T0.plusSeconds(60);
    AdapterDeploymentStatus loaded =
        compute(ad, outcome(AdapterSynchronizer.Phase.LOADED, "Loaded", false), t2);
    assertEquals("True", condition(loaded, Conditions.READY).getStatus());
    assertEquals(t2.toString(), condition(loaded, Conditions.READY).getLastTransitionTime());
    assertEquals(
        condition(first, Conditions.BASE_MODEL_READY).getLastTransitionTime(),
        condition(loaded, Conditions.BASE_MODEL_READY).getLastTransitionTime());
    assertEquals(t2.toString(), loaded.adapters.get(0).lastLoadTime);
    assertEquals("1/1", loaded.loadedAdapters);
    ad.setStatus(loaded);

    // Still loaded later: lastLoadTime keeps the load's time.
    AdapterDeploymentStatus later =
        compute(ad, outcome(AdapterSynchronizer.Phase.LOADED, "Loaded", false), t2.plusSeconds(60));
    assertEquals(t2.toString(), later.adapters.get(0).lastLoadTime);
  }

  @Test
  void aPodThatBecameReadyAfterTheLastSyncKeepsTheAdapterStaging() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").replicas(2).path("a", "a").build();
    PodEndpoint newPod = new PodEndpoint("ad-1", URI.create("http://y"), URI.create("http://y"));
    AdapterDeploymentStatus s =
        AdapterDeploymentStatusComputer.compute(
            new AdapterDeploymentStatusComputer.Observed(
                ad,
                List.of(),
                2,
                List.of(pod, newPod),
                List.of(new Ready(a)),
                outcome(AdapterSynchronizer.Phase.LOADED, "Loaded", false),
                URL,
                T0));
    assertEquals(AdapterPhase.Staging, s.adapters.get(0).phase);
    assertEquals(1, s.adapters.get(0).loadedReplicas);
    assertEquals(2, s.adapters.get(0).desiredReplicas);
    assertEquals("0/1", s.loadedAdapters);
    assertEquals("False", condition(s, Conditions.READY).getStatus());
  }

  @Test
  void onlyFailuresThatNeedTheUserStall() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").path("a", "a").build();
    AdapterDeploymentStatus transientFailure =
        compute(ad, outcome(AdapterSynchronizer.Phase.FAILED, "ServerUnreachable", true), T0);
    assertEquals(AdapterPhase.Failed, transientFailure.adapters.get(0).phase);
    assertEquals("False", condition(transientFailure, Conditions.STALLED).getStatus());
    assertEquals("True", condition(transientFailure, Conditions.RECONCILING).getStatus());

    AdapterDeploymentStatus needsUser =
        compute(ad, outcome(AdapterSynchronizer.Phase.FAILED, "NoFreeLoraSlots", false), T0);
    assertEquals("True", condition(needsUser, Conditions.STALLED).getStatus());
    assertEquals("NoFreeLoraSlots", condition(needsUser, Conditions.STALLED).getReason());
    assertEquals("False", condition(needsUser, Conditions.RECONCILING).getStatus());
    assertNotEquals(transientFailure.conditions, needsUser.conditions);
  }

  @Test
  void anOperatorRestartKeepsTheLastResultUntilTheNextSync() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").path("a", "a").build();
    for (AdapterSynchronizer.Phase phase :
        List.of(AdapterSynchronizer.Phase.LOADED, AdapterSynchronizer.Phase.FAILED)) {
      AdapterDeploymentStatus before = compute(ad, outcome(phase, "NoFreeLoraSlots", false), T0);
      ad.setStatus(before);
      // A new operator process has no sync result yet: the status must not flap to Staging.
      AdapterDeploymentStatus after = compute(ad, null, T0.plusSeconds(5));
      assertEquals(before.adapters.get(0).phase, after.adapters.get(0).phase, phase.toString());
      assertEquals(before.adapters.get(0).loadedReplicas, after.adapters.get(0).loadedReplicas);
      assertEquals(before.adapters.get(0).message, after.adapters.get(0).message);
    }
    // A new version (another digest) is Staging until its result arrives.
    AdapterDeploymentStatus previous = ad.getStatus();
    previous.adapters.get(0).digest = "sha256:" + "0".repeat(64);
    assertEquals(AdapterPhase.Staging, compute(ad, null, T0.plusSeconds(10)).adapters.get(0).phase);
  }
}
