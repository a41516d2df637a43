package io.kubetune.operator.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.AdapterDigest;
import io.kubetune.operator.modelserver.AdapterSynchronizer.AdapterResult;
import io.kubetune.operator.modelserver.AdapterSynchronizer.DesiredAdapter;
import io.kubetune.operator.modelserver.AdapterSynchronizer.Phase;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodAdapterResult;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.kubetune.operator.modelserver.AdapterSynchronizer.Settings;
import io.kubetune.operator.modelserver.AdapterSynchronizer.SyncResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdapterSynchronizerTest {

  /** A clock the test moves, so backoff and load timeouts need no sleeping. */
  static final class MutableClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static final Duration BACKOFF = Duration.ofSeconds(10);

  private final List<FakeDjlServing> fakes = new ArrayList<>();
  private final List<PodEndpoint> pods = new ArrayList<>();
  private final MutableClock clock = new MutableClock();
  private AdapterSynchronizer sync;

  @BeforeEach
  void startPods() throws IOException {
    for (int i = 0; i < 3; i++) {
      FakeDjlServing fake = FakeDjlServing.start();
      fakes.add(fake);
      pods.add(new PodEndpoint("pod-" + i, fake.uri(), fake.uri()));
    }
    sync = synchronizer(Duration.ofSeconds(5), Duration.ofHours(1), 100);
  }

  @AfterEach
  void stopPods() {
    sync.close();
    fakes.forEach(FakeDjlServing::close);
  }

  private AdapterSynchronizer synchronizer(Duration requestTimeout, Duration reprobe, int page) {
    return synchronizer(requestTimeout, reprobe, page, Duration.ofSeconds(30));
  }

  private AdapterSynchronizer synchronizer(
      Duration requestTimeout, Duration reprobe, int page, Duration podTimeout) {
    return new AdapterSynchronizer(
        new DjlServingClient(Duration.ofSeconds(2), requestTimeout, page),
        new Settings(
            FakeDjlServing.MODEL,
            3,
            podTimeout,
            BACKOFF,
            Duration.ofMinutes(5),
            Duration.ofMinutes(10),
            reprobe,
            "hi"),
        clock);
  }

  private static String digest(String seed) {
    return AdapterDigest.of(
        seed.getBytes(StandardCharsets.UTF_8), "weights".getBytes(StandardCharsets.UTF_8));
  }

  private static DesiredAdapter adapter(String name, String version) {
    return new DesiredAdapter(
        name, "/artifacts/adapters/" + name + "/" + version, false, digest(name + version));
  }

  private static String hex8(DesiredAdapter d) {
    return d.digest().substring("sha256:".length(), "sha256:".length() + 8);
  }

  private Set<String> namesOn(int pod) {
    return fakes.get(pod).adapters().keySet();
  }

  private SyncResult converge(List<DesiredAdapter> desired) {
    SyncResult result = sync.sync(desired, pods);
    assertTrue(result.converged(), () -> "not converged: " + result);
    return result;
  }

  @Test
  void addsReplacesAndRemovesAdaptersOnEveryPod() {
    DesiredAdapter a1 = adapter("support", "v1");
    DesiredAdapter b = adapter("sql", "v1");

    SyncResult added = converge(List.of(a1, b));
    for (int i = 0; i < 3; i++) {
      assertEquals(Set.of("support", "sql"), namesOn(i));
    }
    AdapterResult support = added.adapter("support");
    assertEquals("support", support.servedName());
    assertEquals(3, support.loadedReplicas());
    assertEquals(3, support.desiredReplicas());
    assertEquals(a1.digest(), support.digest());
    assertNotNull(support.loadSeconds(), "load time is measured for new registrations");

    // New version of "support": served under a new name first, the old one removed after.
    DesiredAdapter a2 = adapter("support", "v2");
    String newName = "support-" + hex8(a2);
    SyncResult replaced = converge(List.of(a2, b));
    assertEquals(newName, replaced.adapter("support").servedName());
    for (int i = 0; i < 3; i++) {
      assertEquals(Set.of(newName, "sql"), namesOn(i));
      List<String> changes = fakes.get(i).changes;
      int registeredNew = changes.indexOf("register " + newName);
      int removedOld = changes.indexOf("unregister support");
      assertTrue(
          registeredNew >= 0 && removedOld > registeredNew,
          "new version must be registered before the old is removed: " + changes);
      assertEquals("/artifacts/adapters/support/v2", fakes.get(i).adapters().get(newName).src());
    }

    // Pin changes are applied in place.
    DesiredAdapter bPinned = new DesiredAdapter(b.name(), b.src(), true, b.digest());
    converge(List.of(a2, bPinned));
    for (int i = 0; i < 3; i++) {
      assertTrue(fakes.get(i).adapters().get("sql").pin());
      assertEquals(1, fakes.get(i).updates.get());
    }

    // Removal.
    SyncResult removed = converge(List.of(bPinned));
    for (int i = 0; i < 3; i++) {
      assertEquals(Set.of("sql"), namesOn(i));
    }
    assertEquals(3, removed.removals().size());
    assertTrue(removed.removals().stream().allMatch(r -> r.servedName().equals(newName)));
  }

  @Test
  void oldVersionKeepsServingUntilTheNewOneIsLoadedOnEveryPod() {
    DesiredAdapter v1 = adapter("support", "v1");
    converge(List.of(v1));
    DesiredAdapter v2 = adapter("support", "v2");
    String newName = "support-" + hex8(v2);
    fakes.get(1).failLoadsOf(newName);

    AdapterResult partial = sync.sync(List.of(v2), pods).adapter("support");
    assertEquals(2, partial.loadedReplicas());
    assertEquals(newName, partial.targetServedName());
    assertEquals("support", partial.servedName(), "callers keep the name that works everywhere");
    for (int i = 0; i < 3; i++) {
      assertTrue(namesOn(i).contains("support"), "old version removed early on pod-" + i);
    }

    fakes.get(1).clearLoadFailures();
    clock.advance(BACKOFF);
    AdapterResult done = converge(List.of(v2)).adapter("support");
    assertEquals(newName, done.servedName());
    for (int i = 0; i < 3; i++) {
      assertEquals(Set.of(newName), namesOn(i));
    }
  }

  @Test
  void aHangingPodDoesNotHoldUpTheOthers() throws Exception {
    sync.close();
    // Budgets are generous so the healthy pods finish in time even on a loaded machine.
    sync = synchronizer(Duration.ofSeconds(30), Duration.ofHours(1), 100, Duration.ofSeconds(4));
    fakes.get(0).loadDelay(Duration.ofSeconds(8));
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));

    AdapterResult a = sync.sync(desired, pods).adapter("a");
    assertEquals(2, a.loadedReplicas());
    assertEquals(Phase.LOADED, podResult(a, "pod-1").phase());
    assertEquals(Phase.LOADED, podResult(a, "pod-2").phase());
    PodAdapterResult hung = podResult(a, "pod-0");
    assertEquals(Phase.FAILED, hung.phase());
    assertEquals(AdapterSynchronizer.POD_TIMEOUT, hung.reason());

    fakes.get(0).loadDelay(Duration.ZERO);
    await(() -> namesOn(0).contains("a"), "the slow registration completes on the fake");
    clock.advance(Duration.ofMinutes(1));
    converge(desired);
  }

  @Test
  void aConvergedSetCostsOnlyListingsAndNoRegistrations() {
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"), adapter("b", "v1"));
    converge(desired);
    int before = fakes.get(0).registers.get();
    int invocations = fakes.get(0).invocations.get();
    converge(desired);
    assertEquals(before, fakes.get(0).registers.get());
    assertEquals(
        invocations, fakes.get(0).invocations.get(), "confirmed adapters are not reprobed");
  }

  @Test
  void podRestartIsFollowedByReRegistration() {
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"), adapter("b", "v1"));
    converge(desired);
    fakes.get(1).restart();
    assertEquals(Set.of(), namesOn(1));

    SyncResult result = converge(desired);
    assertEquals(Set.of("a", "b"), namesOn(1));
    assertEquals(2, sync.restartsSeen("pod-1"));
    assertEquals(0, sync.restartsSeen("pod-0"));
    PodAdapterResult onPod1 = podResult(result.adapter("a"), "pod-1");
    assertTrue(onPod1.message().contains("re-registered"), onPod1.message());
  }

  @Test
  void workerRestartBehindAStaleListingIsFoundByTheProbe() {
    sync.close();
    sync = synchronizer(Duration.ofSeconds(5), Duration.ZERO, 100);
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));
    converge(desired);
    fakes.get(2).loseLoadedAdaptersKeepListing();

    converge(desired);
    assertTrue(fakes.get(2).changes.contains("unregister a"), fakes.get(2).changes.toString());
    assertEquals(2, fakes.get(2).registers.get(), "registered again after the lost probe");
    assertEquals(1, sync.restartsSeen("pod-2"));
  }

  @Test
  void registrationAnsweredBeforeTheAdapterLoadsStaysPendingUntilInferenceWorks() {
    fakes.get(0).asyncLoads(true);
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));

    AdapterResult first = sync.sync(desired, pods).adapter("a");
    assertEquals(Phase.PENDING, first.phase());
    assertEquals(2, first.loadedReplicas());
    PodAdapterResult pod0 = podResult(first, "pod-0");
    assertEquals(Phase.PENDING, pod0.phase());
    assertEquals(AdapterSynchronizer.ADAPTER_NOT_READY, pod0.reason());

    // Within the backoff nothing is called again: no hot loop.
    int invocations = fakes.get(0).invocations.get();
    assertEquals(Phase.PENDING, sync.sync(desired, pods).adapter("a").phase());
    assertEquals(invocations, fakes.get(0).invocations.get());

    fakes.get(0).finishLoading();
    clock.advance(BACKOFF);
    AdapterResult done = converge(desired).adapter("a");
    assertEquals(3, done.loadedReplicas());
    assertEquals(1, fakes.get(0).registers.get(), "confirmed without registering twice");
    assertEquals(
        BACKOFF.toSeconds(),
        podResult(done, "pod-0").loadSeconds(),
        0.001,
        "load time runs from registration to the confirming inference");
    assertEquals(BACKOFF.toSeconds(), done.loadSeconds(), 0.001, "the slowest pod's load time");
  }

  @Test
  void anAdapterThatNeverLoadsTimesOutAndIsRegisteredAgain() {
    fakes.get(0).asyncLoads(true);
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));
    sync.sync(desired, pods);
    clock.advance(Duration.ofMinutes(11));

    PodAdapterResult timedOut = podResult(sync.sync(desired, pods).adapter("a"), "pod-0");
    assertEquals(Phase.FAILED, timedOut.phase());
    assertEquals(AdapterSynchronizer.LOAD_TIMEOUT, timedOut.reason());
    assertFalse(namesOn(0).contains("a"), "a stuck registration is removed");

    fakes.get(0).asyncLoads(false);
    clock.advance(Duration.ofMinutes(5));
    converge(desired);
    assertEquals(2, fakes.get(0).registers.get());
  }

  @Test
  void noFreeSlotsFailsWithReasonAndRecovers() {
    fakes.get(2).maxLoras(1);
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"), adapter("b", "v1"));

    SyncResult result = sync.sync(desired, pods);
    AdapterResult b = result.adapter("b");
    assertEquals(Phase.FAILED, b.phase(), "no free slot needs the user: Failed, not Pending");
    assertEquals("NoFreeLoraSlots", b.reason());
    assertTrue(b.message().startsWith("pod-2: "), b.message());
    assertTrue(b.message().contains("maxLoras"), b.message());
    assertEquals(2, b.loadedReplicas());
    assertEquals(Phase.LOADED, result.adapter("a").phase());

    int registers = fakes.get(2).registers.get();
    sync.sync(desired, pods);
    assertEquals(registers, fakes.get(2).registers.get(), "backoff: no retry before it expires");

    fakes.get(2).maxLoras(8);
    clock.advance(BACKOFF);
    converge(desired);
    assertEquals(Set.of("a", "b"), namesOn(2));
  }

  @Test
  void failedLoadIsReportedAndBacksOffExponentially() {
    fakes.get(1).failLoadsOf("a");
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));

    AdapterResult a = sync.sync(desired, pods).adapter("a");
    assertEquals(Phase.FAILED, a.phase());
    assertEquals("AdapterLoadFailed", a.reason());
    assertTrue(a.message().contains("target module not found"), a.message());

    clock.advance(BACKOFF);
    sync.sync(desired, pods);
    assertEquals(2, fakes.get(1).registers.get());
    clock.advance(BACKOFF); // second failure doubled the delay: still waiting
    sync.sync(desired, pods);
    assertEquals(2, fakes.get(1).registers.get());

    fakes.get(1).clearLoadFailures();
    clock.advance(BACKOFF);
    converge(desired);
    assertEquals(3, fakes.get(1).registers.get());
  }

  @Test
  void slowLoadTimesOutThenIsConfirmedOnceTheServerCatchesUp() throws Exception {
    sync.close();
    sync = synchronizer(Duration.ofSeconds(1), Duration.ofHours(1), 100);
    fakes.get(2).loadDelay(Duration.ofSeconds(4));
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));

    AdapterResult a = sync.sync(desired, pods).adapter("a");
    assertEquals(Phase.PENDING, a.phase(), "a timeout may clear by itself");
    PodAdapterResult pod2 = podResult(a, "pod-2");
    assertEquals(Phase.FAILED, pod2.phase());
    assertEquals("Timeout", pod2.reason());
    assertTrue(pod2.transientFailure());

    // The server finishes the registration it was still working on.
    await(() -> namesOn(2).contains("a"), "slow registration completes on the fake");
    clock.advance(BACKOFF);
    converge(desired);
    assertEquals(
        1, fakes.get(2).registers.get(), "the late registration is confirmed, not repeated");
  }

  @Test
  void refusedConnectionsAffectOnlyThatPodAndRecover() throws Exception {
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));
    fakes.get(1).stopListening();

    AdapterResult a = sync.sync(desired, pods).adapter("a");
    assertEquals(2, a.loadedReplicas());
    PodAdapterResult pod1 = podResult(a, "pod-1");
    assertEquals(Phase.FAILED, pod1.phase());
    assertEquals("ServerUnreachable", pod1.reason());
    assertEquals(Phase.PENDING, a.phase());

    fakes.get(1).restart();
    fakes.get(1).startListening();
    converge(desired);
    assertEquals(Set.of("a"), namesOn(1));
  }

  @Test
  void aPodWhoseBaseModelIsStillLoadingIsLeftAloneUntilHealthy() {
    fakes.get(0).modelStatus("PENDING");
    List<DesiredAdapter> desired = List.of(adapter("a", "v1"));

    AdapterResult a = sync.sync(desired, pods).adapter("a");
    PodAdapterResult pod0 = podResult(a, "pod-0");
    assertEquals(AdapterSynchronizer.BASE_MODEL_NOT_READY, pod0.reason());
    assertTrue(pod0.message().contains("PENDING"), pod0.message());
    assertEquals(Phase.PENDING, a.phase(), "a loading base model is not the user's fault");
    assertEquals(0, fakes.get(0).managementCalls(), "no management calls while PENDING");

    fakes.get(0).modelStatus("Healthy");
    converge(desired);
  }

  @Test
  void loraDisabledOnThePodIsAFailureWithTheFix() {
    fakes.get(0).loraEnabled(false);
    AdapterResult a = sync.sync(List.of(adapter("a", "v1")), pods).adapter("a");
    assertEquals(Phase.FAILED, a.phase());
    assertEquals("LoraNotEnabled", a.reason());
    assertTrue(a.message().contains("enable_lora"), a.message());
  }

  @Test
  void listingsWithManyPagesAreReadCompletely() {
    sync.close();
    sync = synchronizer(Duration.ofSeconds(5), Duration.ofHours(1), 3);
    List<DesiredAdapter> desired = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      desired.add(adapter("a" + i, "v1"));
    }
    for (FakeDjlServing fake : fakes) {
      fake.maxLoras(10).maxPageSize(3);
    }
    converge(desired);
    int pages = fakes.get(0).listPages.get();
    converge(desired);
    assertEquals(7, fakes.get(0).registers.get(), "every adapter was seen on later pages");
    assertEquals(3, fakes.get(0).listPages.get() - pages, "7 adapters at 3 per page");
  }

  @Test
  void unknownAdaptersOnAPodAreRemoved() throws Exception {
    new DjlServingClient(Duration.ofSeconds(5))
        .register(
            fakes.get(0).uri(), FakeDjlServing.MODEL, "stray", "/opt/ml/adapters/stray", false);
    SyncResult result = converge(List.of(adapter("a", "v1")));
    assertEquals(Set.of("a"), namesOn(0));
    assertEquals(1, result.removals().size());
    assertEquals("stray", result.removals().get(0).servedName());
  }

  @Test
  void rememberedServedNameSurvivesAnOperatorRestart() {
    DesiredAdapter a = adapter("a", "v1");
    converge(List.of(a));
    int registers = fakes.get(0).registers.get();

    sync.close();
    sync = synchronizer(Duration.ofSeconds(5), Duration.ofHours(1), 100);
    sync.remember("a", "a", a.digest());
    SyncResult result = converge(List.of(a));
    assertEquals("a", result.adapter("a").servedName());
    assertEquals(registers, fakes.get(0).registers.get());
    assertNull(result.adapter("a").loadSeconds(), "load time unknown for adapters found loaded");
  }

  @Test
  void invalidDesiredAdaptersAreRejectedWithTheField() {
    DesiredAdapter a = adapter("a", "v1");
    IllegalArgumentException dup =
        assertThrows(IllegalArgumentException.class, () -> sync.sync(List.of(a, a), pods));
    assertTrue(dup.getMessage().contains("appears twice"));
    IllegalArgumentException digest =
        assertThrows(
            IllegalArgumentException.class,
            () -> sync.sync(List.of(new DesiredAdapter("a", "/x", false, "md5:1")), pods));
    assertTrue(digest.getMessage().contains("digest"));
  }

  private static PodAdapterResult podResult(AdapterResult adapter, String pod) {
    return adapter.pods().stream()
        .filter(p -> p.pod().equals(pod))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no result for " + pod + " in " + adapter));
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(50);
    }
  }
}
