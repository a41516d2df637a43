package io.kubetune.operator.modelserver;

import io.kubetune.contract.AdapterDigest;
import io.kubetune.operator.modelserver.DjlServingException.Reason;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every ready DJL Serving pod hold exactly the desired adapters, over the management API.
 *
 * <p>One {@link #sync} call runs three rounds, each in parallel across pods with a bounded pool and
 * a per-pod time budget, so a failing or hanging pod never holds up the others:
 *
 * <ol>
 *   <li>list each pod's adapters (all pages);
 *   <li>per pod and adapter: register what is missing ({@code preload=true}), confirm each new
 *       registration with a one-token inference that selects it (a 200 from registration does not
 *       prove the adapter is loaded), fix {@code pin}, and re-register what a pod or worker restart
 *       lost (seen as a missing listing entry, or as an inference answering 404);
 *   <li>unregister what is not desired, and the previous version of a replaced adapter once its new
 *       version is loaded on every pod.
 * </ol>
 *
 * <p>Served names (docs/adapter-serving.md): the first version of adapter {@code a} is served as
 * {@code a}; a new version (new digest) is served as {@code a-<first 8 hex of its digest>}, because
 * DJL Serving cannot change an adapter's files under an existing name. Both versions are served
 * until the new one is loaded on every pod; {@link AdapterResult#servedName()} tells which name
 * callers should use.
 *
 * <p>Failures back off per (pod, served name) exponentially, so a broken adapter costs one call per
 * backoff period, not one per reconcile. This class does no Kubernetes calls and knows no CRD
 * types: the reconciler maps its results into status. Calls to {@link #sync} are serialized.
 */
public final class AdapterSynchronizer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AdapterSynchronizer.class);

  /** Reason used when a registered adapter does not answer inference yet. */
  public static final String ADAPTER_NOT_READY = "AdapterNotReady";

  /** Reason used when an adapter stayed unconfirmed for longer than the load timeout. */
  public static final String LOAD_TIMEOUT = "AdapterLoadTimeout";

  /** Reason used when the pod did not finish its round within the pod budget. */
  public static final String POD_TIMEOUT = "PodSyncTimeout";

  /** Reason used when an earlier, timed-out round on the pod is still running. */
  public static final String POD_BUSY = "PodSyncBusy";

  /** Reason used when syncing a pod failed unexpectedly (an operator bug; see its log). */
  public static final String SYNC_ERROR = "SyncError";

  /** Reason used when the pod's base model does not report Healthy on /ping. */
  public static final String BASE_MODEL_NOT_READY = "BaseModelNotReady";

  /** Reason used for an adapter loaded and confirmed on a pod. */
  public static final String LOADED = "Loaded";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  private static final Pattern VERSION_SUFFIX = Pattern.compile("-[0-9a-f]{8}");

  /**
   * An adapter that should be served.
   *
   * @param name logical name (unique in the list)
   * @param src adapter folder as seen inside the serving container
   * @param pin whether to pin it in GPU memory
   * @param digest {@code sha256:<hex>} of the adapter files (see AdapterDigest)
   */
  public record DesiredAdapter(String name, String src, boolean pin, String digest) {}

  /**
   * A ready serving pod.
   *
   * @param name pod name (state and backoff are kept per pod name)
   * @param management base URI of the management API
   * @param inference base URI of the inference API
   */
  public record PodEndpoint(String name, URI management, URI inference) {}

  /** State of one adapter on one pod. */
  public enum Phase {
    /** Registered and answering inference. */
    LOADED,
    /** Registered, or being registered, but not confirmed yet. */
    PENDING,
    /** Not served on this pod; see the reason. */
    FAILED
  }

  /**
   * Result for one adapter on one pod.
   *
   * @param pod pod name
   * @param adapter logical adapter name
   * @param servedName the served name the pod should hold for the desired version
   * @param phase Loaded, Pending or Failed
   * @param reason CamelCase reason (e.g. NoFreeLoraSlots, AdapterNotReady, Loaded)
   * @param message what happened and what to do
   * @param loadSeconds seconds from registration to confirmed inference; null when unknown
   * @param transientFailure true when the failure may clear without user action
   */
  public record PodAdapterResult(
      String pod,
      String adapter,
      String servedName,
      Phase phase,
      String reason,
      String message,
      Double loadSeconds,
      boolean transientFailure) {

    PodAdapterResult withSuffix(String suffix) {
      return new PodAdapterResult(
          pod, adapter, servedName, phase, reason, message + suffix, loadSeconds, transientFailure);
    }
  }

  /**
   * Result for one adapter across pods.
   *
   * @param name logical adapter name
   * @param digest desired digest
   * @param servedName the name callers should use now (the new version's once it is on every pod)
   * @param targetServedName the served name of the desired version
   * @param loadedReplicas pods where the desired version is loaded
   * @param desiredReplicas ready pods
   * @param phase Loaded on all pods; Failed when a pod failed for a reason needing user action (or
   *     when it is loaded nowhere and every pod failed); else Pending
   * @param reason reason of the first pod not Loaded, or Loaded
   * @param message message of the first pod not Loaded (prefixed by the pod name)
   * @param loadSeconds the longest load time among pods that loaded it during this operator's life
   * @param pods per-pod results in pod order
   */
  public record AdapterResult(
      String name,
      String digest,
      String servedName,
      String targetServedName,
      int loadedReplicas,
      int desiredReplicas,
      Phase phase,
      String reason,
      String message,
      Double loadSeconds,
      List<PodAdapterResult> pods) {}

  /**
   * An adapter removed, or that failed to be removed, from a pod.
   *
   * @param pod pod name
   * @param servedName served name
   * @param removed true when it is gone
   * @param reason CamelCase reason when it failed
   * @param message what happened
   */
  public record Removal(
      String pod, String servedName, boolean removed, String reason, String message) {}

  /**
   * The outcome of one sync.
   *
   * @param adapters per adapter, in desired order
   * @param removals unregistrations attempted
   * @param baseModelNotReady pods whose {@code /ping} body did not report the base model Healthy,
   *     with what it reported (those pods were left alone)
   */
  public record SyncResult(
      List<AdapterResult> adapters, List<Removal> removals, Map<String, String> baseModelNotReady) {

    /** Returns the result for adapter {@code name}. */
    public AdapterResult adapter(String name) {
      return adapters.stream()
          .filter(a -> a.name().equals(name))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no result for adapter " + name));
    }

    /** Returns true when every adapter is Loaded on every pod and nothing failed to be removed. */
    public boolean converged() {
      return adapters.stream().allMatch(a -> a.phase() == Phase.LOADED)
          && removals.stream().allMatch(Removal::removed);
    }
  }

  /**
   * Tuning.
   *
   * @param model served model name ({@code model} when loaded from /opt/ml/model)
   * @param parallelism pods handled at once
   * @param podTimeout budget of one pod in one round; the pod's unfinished work is reported as
   *     {@link #POD_TIMEOUT} and retried next sync
   * @param initialBackoff delay after the first failure of a (pod, served name)
   * @param maxBackoff cap of the exponential backoff
   * @param loadTimeout how long an adapter may stay registered but unconfirmed before it is
   *     unregistered and reported as {@link #LOAD_TIMEOUT}
   * @param reprobeInterval how often a confirmed adapter is probed again, to notice a worker that
   *     lost it while the listing still shows it
   * @param probePrompt input of the one-token confirming inference
   */
  public record Settings(
      String model,
      int parallelism,
      Duration podTimeout,
      Duration initialBackoff,
      Duration maxBackoff,
      Duration loadTimeout,
      Duration reprobeInterval,
      String probePrompt) {

    public Settings {
      if (parallelism < 1) {
        throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
      }
      for (Duration d : List.of(podTimeout, initialBackoff, maxBackoff, loadTimeout)) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException(
              "podTimeout, initialBackoff, maxBackoff and loadTimeout must be positive, got " + d);
        }
      }
      if (reprobeInterval.isNegative()) {
        throw new IllegalArgumentException(
            "reprobeInterval must not be negative, got " + reprobeInterval);
      }
    }

    /** Returns production defaults for model {@code model}. */
    public static Settings defaults(String model) {
      return new Settings(
          model,
          4,
          Duration.ofMinutes(2),
          Duration.ofSeconds(5),
          Duration.ofMinutes(5),
          Duration.ofMinutes(10),
          Duration.ofMinutes(5),
          "Hello");
    }
  }

  private final DjlServingClient client;
  private final ModelServerMetrics metrics;
  private final Settings settings;
  private final Clock clock;
  private final ExecutorService executor;
  private final Map<String, PodState> pods = new ConcurrentHashMap<>();
  // Digest served under the plain name of each logical adapter; versioned names carry theirs.
  private final Map<String, String> plainDigests = new ConcurrentHashMap<>();
  // Served name callers should use, per logical adapter.
  private final Map<String, String> current = new ConcurrentHashMap<>();

  /** Creates a synchronizer using {@code client}; {@code clock} drives backoff and load times. */
  public AdapterSynchronizer(DjlServingClient client, Settings settings, Clock clock) {
    this.client = client;
    this.metrics = client.metrics();
    this.settings = settings;
    this.clock = clock;
    AtomicInteger counter = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            settings.parallelism(),
            r -> {
              Thread t = new Thread(r, "adapter-sync-" + counter.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Tells the synchronizer which served name and digest were last reported for {@code adapter}
   * (from the resource status), so that after an operator restart the plain name is recognised as
   * that version instead of being replaced.
   */
  public void remember(String adapter, String servedName, String digest) {
    if (servedName.equals(adapter)) {
      plainDigests.put(adapter, digest);
    }
    current.put(adapter, servedName);
  }

  /**
   * Makes each pod's adapter set equal to {@code desired}. Never throws for server-side failures:
   * they are in the result.
   *
   * @throws IllegalArgumentException when {@code desired} has invalid or duplicate names or
   *     malformed digests (the reconciler validates the spec before)
   */
  public synchronized SyncResult sync(List<DesiredAdapter> desired, List<PodEndpoint> endpoints) {
    validate(desired);
    pods.keySet().retainAll(endpoints.stream().map(PodEndpoint::name).toList());
    for (PodEndpoint endpoint : endpoints) {
      pods.computeIfAbsent(endpoint.name(), n -> new PodState());
    }

    // Round 1: listings. A pod that cannot be listed gets its failure for every adapter.
    Map<String, PodAdapterResult> podErrors = new ConcurrentHashMap<>();
    Map<String, Listing> rawListings = round(endpoints, this::list, podErrors);
    Map<String, Map<String, ServedAdapter>> listings = new LinkedHashMap<>();
    Map<String, String> baseModelNotReady = new LinkedHashMap<>();
    for (Map.Entry<String, Listing> e : rawListings.entrySet()) {
      DjlServingException failure = e.getValue().failure();
      if (e.getValue().modelNotReady() != null) {
        baseModelNotReady.put(e.getKey(), e.getValue().modelNotReady());
        podErrors.put(
            e.getKey(),
            podFailure(e.getKey(), BASE_MODEL_NOT_READY, e.getValue().modelNotReady(), true));
      } else if (failure == null) {
        listings.put(e.getKey(), e.getValue().adapters());
      } else {
        metrics.syncError(failure.reason().reason());
        podErrors.put(
            e.getKey(),
            podFailure(
                e.getKey(),
                failure.reason().reason(),
                failure.userMessage(),
                failure.reason().isTransient()));
      }
    }

    // Target served names need every listing: the plain name is only reused when no pod has it.
    Set<String> logicalNames = new HashSet<>();
    desired.forEach(d -> logicalNames.add(d.name()));
    Map<String, String> targets = new LinkedHashMap<>();
    for (DesiredAdapter d : desired) {
      targets.put(d.name(), targetName(d, listings.values()));
    }

    // Round 2: register, confirm, pin.
    List<PodEndpoint> listed =
        endpoints.stream().filter(e -> listings.containsKey(e.name())).toList();
    Map<String, List<PodAdapterResult>> perPod =
        round(
            listed,
            endpoint -> ensure(endpoint, desired, targets, listings.get(endpoint.name())),
            podErrors);

    Map<String, AdapterResult> results = new LinkedHashMap<>();
    for (DesiredAdapter d : desired) {
      String target = targets.get(d.name());
      List<PodAdapterResult> podResults = new ArrayList<>();
      for (PodEndpoint endpoint : endpoints) {
        PodAdapterResult r = null;
        List<PodAdapterResult> list = perPod.get(endpoint.name());
        if (list != null) {
          r = list.stream().filter(x -> x.adapter().equals(d.name())).findFirst().orElse(null);
        }
        if (r == null) {
          PodAdapterResult error =
              podErrors.getOrDefault(
                  endpoint.name(),
                  podFailure(
                      endpoint.name(),
                      POD_TIMEOUT,
                      "pod did not finish within "
                          + settings.podTimeout()
                          + "; its remaining work is retried on the next sync",
                      true));
          r = withAdapter(error, d.name(), target);
        }
        podResults.add(r);
      }
      results.put(d.name(), aggregate(d, target, podResults, endpoints.size()));
    }

    // Round 3: remove what is not desired, and old versions once the new one is everywhere.
    Map<String, Set<String>> keepByLogical = new HashMap<>();
    for (DesiredAdapter d : desired) {
      AdapterResult r = results.get(d.name());
      boolean everywhere = r.phase() == Phase.LOADED;
      if (everywhere) {
        current.put(d.name(), r.targetServedName());
      }
      keepByLogical.put(d.name(), everywhere ? Set.of(r.targetServedName()) : null);
    }
    Map<String, List<Removal>> removals =
        round(
            listed,
            endpoint ->
                cleanup(
                    endpoint, listings.get(endpoint.name()), logicalNames, keepByLogical, targets),
            new ConcurrentHashMap<>());
    current.keySet().retainAll(logicalNames);
    plainDigests.keySet().retainAll(logicalNames);

    // Re-read the served name: it may have changed in round 3.
    List<AdapterResult> out = new ArrayList<>();
    for (AdapterResult r : results.values()) {
      out.add(
          new AdapterResult(
              r.name(),
              r.digest(),
              current.getOrDefault(r.name(), r.targetServedName()),
              r.targetServedName(),
              r.loadedReplicas(),
              r.desiredReplicas(),
              r.phase(),
              r.reason(),
              r.message(),
              r.loadSeconds(),
              r.pods()));
    }
    List<Removal> allRemovals = new ArrayList<>();
    for (PodEndpoint endpoint : listed) {
      allRemovals.addAll(removals.getOrDefault(endpoint.name(), List.of()));
    }
    return new SyncResult(
        List.copyOf(out), List.copyOf(allRemovals), Map.copyOf(baseModelNotReady));
  }

  private Listing list(PodEndpoint endpoint) {
    Map<String, ServedAdapter> byName = new LinkedHashMap<>();
    try {
      // /ping answers 200 while the model is still PENDING: read the model's own status, and
      // leave a pod whose base model is not serving alone rather than fail registrations on it.
      // DJL Serving answers /ping on the inference address only, when the two are split.
      PingStatus ping = client.ping(endpoint.inference());
      if (!ping.isHealthy(settings.model())) {
        return new Listing(
            null,
            null,
            "base model '"
                + settings.model()
                + "' is "
                + ping.models().getOrDefault(settings.model(), "not loaded")
                + " on this pod; adapters are registered once it reports Healthy");
      }
      for (ServedAdapter a : client.list(endpoint.management(), settings.model())) {
        byName.put(a.name(), a);
      }
    } catch (DjlServingException e) {
      return new Listing(null, e, null);
    }
    return new Listing(byName, null, null);
  }

  // ---------------------------------------------------------------- naming

  private String targetName(DesiredAdapter d, Iterable<Map<String, ServedAdapter>> listings) {
    String plain = d.name();
    int hex = AdapterDigest.PREFIX.length();
    String versioned = plain + "-" + d.digest().substring(hex, hex + 8);
    String plainDigest = plainDigests.get(plain);
    if (d.digest().equals(plainDigest)) {
      return plain;
    }
    if (plainDigest == null) {
      boolean taken = versioned.equals(current.get(plain));
      for (Map<String, ServedAdapter> listing : listings) {
        // An unknown version under the plain name, or this version already under its own name.
        taken |= listing.containsKey(plain) || listing.containsKey(versioned);
      }
      if (!taken) {
        // First version (or nothing serves the plain name): callers get the stable name.
        plainDigests.put(plain, d.digest());
        return plain;
      }
    }
    // A different (or unknown) version holds the plain name: DJL Serving cannot swap files under
    // a name, so the new version gets its own.
    return versioned;
  }

  /** Returns true when {@code served} is a served name of logical adapter {@code logical}. */
  private static boolean belongsTo(String served, String logical, Set<String> logicalNames) {
    if (served.equals(logical)) {
      return true;
    }
    return served.length() == logical.length() + 9
        && served.startsWith(logical)
        && VERSION_SUFFIX.matcher(served.substring(logical.length())).matches()
        && !logicalNames.contains(served);
  }

  // ---------------------------------------------------------------- round 2

  private List<PodAdapterResult> ensure(
      PodEndpoint endpoint,
      List<DesiredAdapter> desired,
      Map<String, String> targets,
      Map<String, ServedAdapter> listing) {
    PodState state = pods.get(endpoint.name());
    List<PodAdapterResult> out = new ArrayList<>();
    for (DesiredAdapter d : desired) {
      if (Thread.currentThread().isInterrupted()) {
        break;
      }
      out.add(ensureOne(endpoint, state, d, targets.get(d.name()), listing));
    }
    return out;
  }

  private PodAdapterResult ensureOne(
      PodEndpoint endpoint,
      PodState state,
      DesiredAdapter d,
      String served,
      Map<String, ServedAdapter> listing) {
    Instant now = clock.instant();
    ServedAdapter listed = listing.get(served);
    if (listed == null) {
      Confirmed confirmed = state.confirmed.remove(served);
      boolean lost = confirmed != null || state.waitingSince.containsKey(served);
      state.forget(served);
      if (lost) {
        // It was ours and is gone: the pod or its worker restarted.
        state.restarts++;
      }
      return register(endpoint, state, d, served, listing, lost);
    }

    String pinNote = "";
    if (listed.pin() != d.pin()) {
      try {
        client.updatePin(endpoint.management(), settings.model(), served, d.pin());
        listing.put(served, new ServedAdapter(served, listed.src(), listed.preload(), d.pin()));
      } catch (DjlServingException e) {
        pinNote = "; pin not updated: " + e.userMessage();
      }
    }

    Confirmed confirmed = state.confirmed.get(served);
    if (confirmed != null
        && Duration.between(confirmed.at(), now).compareTo(settings.reprobeInterval()) < 0) {
      return loaded(endpoint, d, served, confirmed.loadSeconds(), pinNote);
    }
    Backoff backoff = state.backoff.get(served);
    if (confirmed == null && backoff != null && backoff.active(now)) {
      return backoff.last().withSuffix(retryIn(backoff, now));
    }
    if (confirmed == null) {
      // Found registered but unconfirmed (e.g. after an operator restart): the load timeout runs
      // from now.
      state.waitingSince.putIfAbsent(served, now);
    }
    return probe(endpoint, state, d, served, listing, pinNote, confirmed);
  }

  private PodAdapterResult register(
      PodEndpoint endpoint,
      PodState state,
      DesiredAdapter d,
      String served,
      Map<String, ServedAdapter> listing,
      boolean lost) {
    Instant now = clock.instant();
    Backoff backoff = state.backoff.get(served);
    if (backoff != null && backoff.active(now)) {
      return backoff.last().withSuffix(retryIn(backoff, now));
    }
    try {
      client.register(endpoint.management(), settings.model(), served, d.src(), d.pin());
    } catch (DjlServingException e) {
      if (e.reason() != Reason.ADAPTER_ALREADY_REGISTERED) {
        return fail(
            state,
            endpoint,
            d,
            served,
            e.reason().reason(),
            e.userMessage(),
            e.reason().isTransient());
      }
      // Registered meanwhile (a listing race): confirm it like our own registration.
    }
    state.forget(served);
    state.registeredAt.put(served, now);
    state.waitingSince.put(served, now);
    listing.put(served, new ServedAdapter(served, d.src(), true, d.pin()));
    String note = lost ? "; re-registered after the server lost it (pod or worker restart)" : "";
    return probe(endpoint, state, d, served, listing, note, null);
  }

  private PodAdapterResult probe(
      PodEndpoint endpoint,
      PodState state,
      DesiredAdapter d,
      String served,
      Map<String, ServedAdapter> listing,
      String note,
      Confirmed previously) {
    try {
      client.infer(endpoint.inference(), served, settings.probePrompt());
    } catch (DjlServingException e) {
      state.confirmed.remove(served);
      if (e.reason() == Reason.ADAPTER_NOT_FOUND) {
        // Listed but unknown to the worker: the worker restarted behind the front end. Drop the
        // stale registration and register again, once.
        if (!state.reregistering.add(served)) {
          return fail(state, endpoint, d, served, e.reason().reason(), e.userMessage(), true);
        }
        try {
          unregisterQuietly(endpoint, served);
          listing.remove(served);
          state.forget(served);
          state.restarts++;
          return register(endpoint, state, d, served, listing, true);
        } finally {
          state.reregistering.remove(served);
        }
      }
      Instant now = clock.instant();
      if (previously != null) {
        // Confirmed before and stopped answering: the load timeout runs from now.
        state.waitingSince.put(served, now);
      }
      Instant waitingSince = state.waitingSince.get(served);
      if (waitingSince != null
          && Duration.between(waitingSince, now).compareTo(settings.loadTimeout()) >= 0) {
        unregisterQuietly(endpoint, served);
        listing.remove(served);
        state.forget(served);
        return fail(
            state,
            endpoint,
            d,
            served,
            LOAD_TIMEOUT,
            "adapter "
                + served
                + " did not answer inference within "
                + settings.loadTimeout()
                + " ("
                + e.userMessage()
                + "); unregistered, will register again",
            false);
      }
      String message =
          (previously != null ? "stopped answering inference: " : "registered, not answering yet: ")
              + e.userMessage()
              + note;
      PodAdapterResult pending =
          new PodAdapterResult(
              endpoint.name(),
              d.name(),
              served,
              Phase.PENDING,
              ADAPTER_NOT_READY,
              message,
              null,
              true);
      state.backoff.compute(
          served, (k, b) -> (b == null ? Backoff.NONE : b).next(now, settings, pending));
      return pending;
    }
    Instant now = clock.instant();
    // Load time is registration to first confirmation; re-confirmations keep it.
    Instant registeredAt = state.registeredAt.remove(served);
    Double seconds =
        registeredAt != null
            ? Double.valueOf(Duration.between(registeredAt, now).toMillis() / 1000.0)
            : state.loadSeconds.get(served);
    if (seconds != null) {
      state.loadSeconds.put(served, seconds);
    }
    state.waitingSince.remove(served);
    state.confirmed.put(served, new Confirmed(now, seconds));
    state.backoff.remove(served);
    return loaded(endpoint, d, served, seconds, note);
  }

  private PodAdapterResult loaded(
      PodEndpoint endpoint, DesiredAdapter d, String served, Double seconds, String note) {
    return new PodAdapterResult(
        endpoint.name(),
        d.name(),
        served,
        Phase.LOADED,
        LOADED,
        "loaded as " + served + note,
        seconds,
        false);
  }

  private PodAdapterResult fail(
      PodState state,
      PodEndpoint endpoint,
      DesiredAdapter d,
      String served,
      String reason,
      String message,
      boolean transientFailure) {
    metrics.syncError(reason);
    Instant now = clock.instant();
    PodAdapterResult result =
        new PodAdapterResult(
            endpoint.name(),
            d.name(),
            served,
            Phase.FAILED,
            reason,
            message,
            null,
            transientFailure);
    state.backoff.compute(
        served, (k, b) -> (b == null ? Backoff.NONE : b).next(now, settings, result));
    return result;
  }

  private void unregisterQuietly(PodEndpoint endpoint, String served) {
    try {
      client.unregister(endpoint.management(), settings.model(), served);
    } catch (DjlServingException e) {
      // 404 means it is already gone; anything else is seen again at the next listing.
    }
  }

  // ---------------------------------------------------------------- round 3

  private List<Removal> cleanup(
      PodEndpoint endpoint,
      Map<String, ServedAdapter> listing,
      Set<String> logicalNames,
      Map<String, Set<String>> keepByLogical,
      Map<String, String> targets) {
    PodState state = pods.get(endpoint.name());
    Instant now = clock.instant();
    List<Removal> out = new ArrayList<>();
    for (String served : List.copyOf(listing.keySet())) {
      if (Thread.currentThread().isInterrupted()) {
        break;
      }
      if (keep(served, logicalNames, keepByLogical, targets)) {
        continue;
      }
      String key = "remove:" + served;
      Backoff backoff = state.backoff.get(key);
      if (backoff != null && backoff.active(now)) {
        out.add(
            new Removal(
                endpoint.name(),
                served,
                false,
                backoff.last().reason(),
                backoff.last().message() + retryIn(backoff, now)));
        continue;
      }
      try {
        client.unregister(endpoint.management(), settings.model(), served);
      } catch (DjlServingException e) {
        if (e.reason() != Reason.ADAPTER_NOT_FOUND) {
          metrics.syncError(e.reason().reason());
          PodAdapterResult failure =
              new PodAdapterResult(
                  endpoint.name(),
                  served,
                  served,
                  Phase.FAILED,
                  e.reason().reason(),
                  e.userMessage(),
                  null,
                  e.reason().isTransient());
          state.backoff.compute(
              key, (k, b) -> (b == null ? Backoff.NONE : b).next(now, settings, failure));
          out.add(
              new Removal(endpoint.name(), served, false, e.reason().reason(), e.userMessage()));
          continue;
        }
      }
      state.backoff.remove(key);
      state.backoff.remove(served);
      state.confirmed.remove(served);
      state.forget(served);
      listing.remove(served);
      out.add(new Removal(endpoint.name(), served, true, null, "unregistered " + served));
    }
    return out;
  }

  private static boolean keep(
      String served,
      Set<String> logicalNames,
      Map<String, Set<String>> keepByLogical,
      Map<String, String> targets) {
    for (String logical : logicalNames) {
      if (served.equals(targets.get(logical))) {
        return true;
      }
    }
    for (String logical : logicalNames) {
      if (belongsTo(served, logical, logicalNames)) {
        Set<String> keep = keepByLogical.get(logical);
        // Until the new version is on every pod, older versions keep serving callers.
        return keep == null || keep.contains(served);
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- aggregation

  private AdapterResult aggregate(
      DesiredAdapter d, String target, List<PodAdapterResult> podResults, int replicas) {
    int loaded = 0;
    boolean needsUser = false;
    boolean allFailed = !podResults.isEmpty();
    Double maxSeconds = null;
    PodAdapterResult firstNotLoaded = null;
    for (PodAdapterResult r : podResults) {
      if (r.phase() == Phase.LOADED) {
        loaded++;
        allFailed = false;
        if (r.loadSeconds() != null) {
          maxSeconds = maxSeconds == null ? r.loadSeconds() : Math.max(maxSeconds, r.loadSeconds());
        }
        continue;
      }
      if (firstNotLoaded == null
          || (r.phase() == Phase.FAILED
              && !r.transientFailure()
              && firstNotLoaded.transientFailure())) {
        firstNotLoaded = r;
      }
      if (r.phase() == Phase.FAILED && !r.transientFailure()) {
        needsUser = true;
      }
      if (r.phase() != Phase.FAILED) {
        allFailed = false;
      }
    }
    Phase phase;
    if (replicas > 0 && loaded == replicas) {
      phase = Phase.LOADED;
    } else if (needsUser || (loaded == 0 && allFailed)) {
      phase = Phase.FAILED;
    } else {
      phase = Phase.PENDING;
    }
    String reason =
        firstNotLoaded == null
            ? (replicas == 0 ? "NoReadyReplicas" : LOADED)
            : firstNotLoaded.reason();
    String message =
        firstNotLoaded == null
            ? (replicas == 0
                ? "no ready serving pods"
                : "loaded on " + loaded + "/" + replicas + " pods")
            : firstNotLoaded.pod() + ": " + firstNotLoaded.message();
    return new AdapterResult(
        d.name(),
        d.digest(),
        current.getOrDefault(d.name(), target),
        target,
        loaded,
        replicas,
        phase,
        reason,
        message,
        maxSeconds,
        List.copyOf(podResults));
  }

  private static PodAdapterResult withAdapter(PodAdapterResult r, String adapter, String served) {
    return new PodAdapterResult(
        r.pod(),
        adapter,
        served,
        r.phase(),
        r.reason(),
        r.message(),
        r.loadSeconds(),
        r.transientFailure());
  }

  private static PodAdapterResult podFailure(
      String pod, String reason, String message, boolean transientFailure) {
    return new PodAdapterResult(pod, "", "", Phase.FAILED, reason, message, null, transientFailure);
  }

  // ---------------------------------------------------------------- rounds

  /** A pod's listing, or why there is none. */
  private record Listing(
      Map<String, ServedAdapter> adapters, DjlServingException failure, String modelNotReady) {}

  /**
   * Runs {@code work} for every pod in parallel, each within the pod budget, and returns the values
   * of the pods that finished. A pod that ran out of time, whose previous work is still running (it
   * timed out earlier; it is skipped rather than queued behind itself), or whose work failed
   * unexpectedly gets an entry in {@code podErrors} instead, so one pod never stops the others.
   */
  private <T> Map<String, T> round(
      List<PodEndpoint> endpoints,
      Function<PodEndpoint, T> work,
      Map<String, PodAdapterResult> podErrors) {
    Map<String, Future<T>> futures = new LinkedHashMap<>();
    Map<String, T> out = new LinkedHashMap<>();
    for (PodEndpoint endpoint : endpoints) {
      PodState state = pods.get(endpoint.name());
      futures.put(
          endpoint.name(),
          executor.submit(
              () -> {
                if (!state.lock.tryLock()) {
                  metrics.syncError(POD_BUSY);
                  podErrors.put(
                      endpoint.name(),
                      podFailure(
                          endpoint.name(),
                          POD_BUSY,
                          "an earlier sync of this pod is still running; retried on the next"
                              + " sync",
                          true));
                  return null;
                }
                try {
                  return work.apply(endpoint);
                } finally {
                  state.lock.unlock();
                }
              }));
    }
    long deadline = System.nanoTime() + settings.podTimeout().toNanos();
    for (PodEndpoint endpoint : endpoints) {
      Future<T> future = futures.get(endpoint.name());
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        T value = future.get(left, TimeUnit.NANOSECONDS);
        if (value != null) {
          out.put(endpoint.name(), value);
        }
      } catch (TimeoutException e) {
        metrics.syncError(POD_TIMEOUT);
        future.cancel(true);
      } catch (ExecutionException e) {
        LOG.error("adapter sync failed on pod {}", endpoint.name(), e.getCause());
        metrics.syncError(SYNC_ERROR);
        podErrors.put(
            endpoint.name(),
            podFailure(
                endpoint.name(),
                SYNC_ERROR,
                "internal error while syncing this pod ("
                    + e.getCause()
                    + "); see the operator log",
                false));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.values().forEach(f -> f.cancel(true));
        throw new IllegalStateException("adapter sync interrupted", e);
      }
    }
    return out;
  }

  private static String retryIn(Backoff backoff, Instant now) {
    long seconds = Math.max(1, Duration.between(now, backoff.nextAttempt()).toSeconds());
    return " (next attempt in " + seconds + "s)";
  }

  private static void validate(List<DesiredAdapter> desired) {
    Set<String> names = new HashSet<>();
    for (DesiredAdapter d : desired) {
      Objects.requireNonNull(d, "desired adapter");
      if (d.name() == null || !NAME.matcher(d.name()).matches()) {
        throw new IllegalArgumentException(
            "adapter name '" + d.name() + "' must be 1-128 letters, digits, '_', '.' or '-'");
      }
      if (!names.add(d.name())) {
        throw new IllegalArgumentException("adapter name '" + d.name() + "' appears twice");
      }
      if (d.src() == null || d.src().isBlank()) {
        throw new IllegalArgumentException("adapter '" + d.name() + "' has no src path");
      }
      if (!AdapterDigest.isWellFormed(d.digest())) {
        throw new IllegalArgumentException(
            "adapter '" + d.name() + "' digest '" + d.digest() + "' is not sha256:<64 hex>");
      }
    }
  }

  /** Number of times adapters were found lost on {@code pod} (restart detections), for tests. */
  public int restartsSeen(String pod) {
    PodState state = pods.get(pod);
    return state == null ? 0 : state.restarts;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  // ---------------------------------------------------------------- state

  private static final class PodState {
    final ReentrantLock lock = new ReentrantLock();
    final Map<String, Confirmed> confirmed = new HashMap<>();
    // When we registered a served name (for its load time), until it is first confirmed.
    final Map<String, Instant> registeredAt = new HashMap<>();
    // Since when a registered served name has been waiting for confirmation (load timeout).
    final Map<String, Instant> waitingSince = new HashMap<>();
    final Map<String, Double> loadSeconds = new HashMap<>();
    final Map<String, Backoff> backoff = new HashMap<>();
    final Set<String> reregistering = new HashSet<>();
    volatile int restarts;

    void forget(String served) {
      registeredAt.remove(served);
      waitingSince.remove(served);
      loadSeconds.remove(served);
    }
  }

  private record Confirmed(Instant at, Double loadSeconds) {}

  private record Backoff(int failures, Instant nextAttempt, PodAdapterResult last) {
    static final Backoff NONE = new Backoff(0, Instant.EPOCH, null);

    boolean active(Instant now) {
      return failures > 0 && now.isBefore(nextAttempt);
    }

    Backoff next(Instant now, Settings settings, PodAdapterResult result) {
      int n = failures + 1;
      long factor = 1L << Math.min(n - 1, 20);
      Duration delay = settings.initialBackoff().multipliedBy(factor);
      if (delay.compareTo(settings.maxBackoff()) > 0) {
        delay = settings.maxBackoff();
      }
      return new Backoff(n, now.plus(delay), result);
    }
  }
}
